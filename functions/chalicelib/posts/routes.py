from chalice import Blueprint, Response

from chalicelib.api.idempotency import created_once
from chalicelib.api.requests import body, caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

service = lazy_module("chalicelib.posts.service")
schemas = lazy_module("chalicelib.posts.schemas")

posts_api = Blueprint(__name__)


@posts_api.route("/posts", methods=["POST"])
def create_post() -> Response:
    request = posts_api.current_request
    author, details = caller(request), body(request, schemas.CreatePostInput)
    return created_once(
        posts_api, "POST /posts", author.user_id, details,
        lambda: service.create_post(author.user_id, details),
    )  # fmt: skip


@posts_api.route("/posts/{post_id}", methods=["GET"])
def get_post(post_id: str) -> dict:
    return service.get_post(caller(posts_api.current_request).user_id, post_id)


@posts_api.route("/posts/{post_id}", methods=["DELETE"])
def delete_post(post_id: str) -> Response:
    service.delete_post(caller(posts_api.current_request).user_id, post_id)
    return Response(body="", status_code=204)


@posts_api.route("/users/{user_id}/posts", methods=["GET"])
def user_posts(user_id: str) -> dict:
    request = posts_api.current_request
    scope = f"posts:{user_id}"
    page = service.posts_of(caller(request).user_id, user_id, page_request(request, scope))
    return list_body(page, scope, lambda post: post)


@posts_api.route("/posts/{post_id}/like", methods=["POST"])
def like(post_id: str) -> dict:
    me = caller(posts_api.current_request)
    return schemas.render_like_state(service.like(me.user_id, post_id))


@posts_api.route("/posts/{post_id}/like", methods=["DELETE"])
def unlike(post_id: str) -> dict:
    me = caller(posts_api.current_request)
    return schemas.render_like_state(service.unlike(me.user_id, post_id))


@posts_api.route("/posts/{post_id}/comments", methods=["POST"])
def add_comment(post_id: str) -> Response:
    request = posts_api.current_request
    details = body(request, schemas.CreateCommentInput)
    comment, author = service.add_comment(caller(request).user_id, post_id, details)
    return Response(schemas.render_comment(comment, author), status_code=201)


@posts_api.route("/posts/{post_id}/comments", methods=["GET"])
def comments(post_id: str) -> dict:
    request = posts_api.current_request
    scope = f"comments:{post_id}"
    page = service.comments(caller(request).user_id, post_id, page_request(request, scope))
    return list_body(page, scope, lambda pair: schemas.render_comment(*pair))


@posts_api.route("/posts/{post_id}/comments/{comment_id}", methods=["DELETE"])
def delete_comment(post_id: str, comment_id: str) -> Response:
    me = caller(posts_api.current_request)
    service.delete_comment(me.user_id, post_id, comment_id)
    return Response(body="", status_code=204)
