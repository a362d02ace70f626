from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.operations import operation
from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.core import schema
    from chalicelib.posts import schemas, service
else:
    schema = lazy_module("chalicelib.core.schema")
    schemas = lazy_module("chalicelib.posts.schemas")
    service = lazy_module("chalicelib.posts.service")

posts_api = Blueprint(__name__)


@posts_api.route("/posts", methods=["POST"])
@operation(status=201, idempotent=True, rate_limit="posts", errors=(403, 404, 409))
def create_post(details: schemas.CreatePostInput) -> schemas.PostOut:
    """Post 1 to 10 of your ready photos, with a caption and a place.

    Photos not ready yet: 409. Someone else's: 403. Unknown: 404.
    """
    return schemas.render_post(
        service.create_post(caller(posts_api.current_request).user_id, details)
    )


@posts_api.route("/posts/{post_id}", methods=["GET"])
@operation(errors=(403,))
def get_post(post_id: str) -> schemas.PostOut:
    """A post; a private account's only for its approved followers (403)."""
    return schemas.render_post(service.get_post(caller(posts_api.current_request).user_id, post_id))


@posts_api.route("/posts/{post_id}", methods=["DELETE"])
@operation(errors=(403,))
def delete_post(post_id: str) -> None:
    """Delete your post, with its likes, comments and feed entries (author only: 403)."""
    service.delete_post(caller(posts_api.current_request).user_id, post_id)


@posts_api.route("/users/{user_id}/posts", methods=["GET"])
@operation(errors=(403,))
def user_posts(user_id: str) -> schema.ListOf[schemas.PostOut]:
    """A profile's posts, newest first."""
    request = posts_api.current_request
    paging = page_request(request)
    page = service.posts_of(caller(request).user_id, user_id, paging)
    return list_body(page, paging, schemas.render_post)


@posts_api.route("/posts/{post_id}/like", methods=["POST"])
@operation(rate_limit="likes", errors=(403,))
def like(post_id: str) -> schemas.LikeStateOut:
    """Like a post; liking twice counts once."""
    me = caller(posts_api.current_request)
    return schemas.render_like_state(service.like(me.user_id, post_id))


@posts_api.route("/posts/{post_id}/like", methods=["DELETE"])
@operation(errors=(403,))
def unlike(post_id: str) -> schemas.LikeStateOut:
    """Take a like back; idempotent."""
    me = caller(posts_api.current_request)
    return schemas.render_like_state(service.unlike(me.user_id, post_id))


@posts_api.route("/posts/{post_id}/comments", methods=["POST"])
@operation(status=201, rate_limit="comments", errors=(403,))
def add_comment(post_id: str, details: schemas.CreateCommentInput) -> schemas.CommentOut:
    """Comment on a post you may see."""
    comment, author = service.add_comment(
        caller(posts_api.current_request).user_id, post_id, details
    )
    return schemas.render_comment(comment, author)


@posts_api.route("/posts/{post_id}/comments", methods=["GET"])
@operation(errors=(403,))
def comments(post_id: str) -> schema.ListOf[schemas.CommentOut]:
    """A post's comments, oldest first."""
    request = posts_api.current_request
    paging = page_request(request)
    page = service.comments(caller(request).user_id, post_id, paging)
    return list_body(page, paging, lambda pair: schemas.render_comment(*pair))


@posts_api.route("/posts/{post_id}/comments/{comment_id}", methods=["DELETE"])
@operation(errors=(403,))
def delete_comment(post_id: str, comment_id: str) -> None:
    """Delete a comment: its author or the post's author (anyone else: 403)."""
    me = caller(posts_api.current_request)
    service.delete_comment(me.user_id, post_id, comment_id)
