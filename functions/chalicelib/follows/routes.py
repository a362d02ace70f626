from chalice import Blueprint, Response

from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

service = lazy_module("chalicelib.follows.service")
users_schemas = lazy_module("chalicelib.users.schemas")

follows_api = Blueprint(__name__)


@follows_api.route("/users/{user_id}/follow", methods=["POST"])
def follow(user_id: str) -> dict:
    me = caller(follows_api.current_request)
    return {"status": service.follow(me.user_id, user_id)}


@follows_api.route("/users/{user_id}/follow", methods=["DELETE"])
def unfollow(user_id: str) -> dict:
    me = caller(follows_api.current_request)
    return {"status": service.unfollow(me.user_id, user_id)}


@follows_api.route("/users/{user_id}/followers", methods=["GET"])
def followers(user_id: str) -> dict:
    request = follows_api.current_request
    scope = f"followers:{user_id}"
    page = page_request(request, scope)
    return list_body(
        service.followers(caller(request).user_id, user_id, page),
        scope,
        users_schemas.render_summary,
    )


@follows_api.route("/users/{user_id}/following", methods=["GET"])
def following(user_id: str) -> dict:
    request = follows_api.current_request
    scope = f"following:{user_id}"
    page = page_request(request, scope)
    return list_body(
        service.following(caller(request).user_id, user_id, page),
        scope,
        users_schemas.render_summary,
    )


@follows_api.route("/follow-requests", methods=["GET"])
def follow_requests() -> dict:
    request = follows_api.current_request
    me = caller(request)
    scope = f"follow-requests:{me.user_id}"
    page = page_request(request, scope)
    return list_body(
        service.pending_requests(me.user_id, page), scope, users_schemas.render_summary
    )


@follows_api.route("/follow-requests/{user_id}/approve", methods=["POST"])
def approve_follow_request(user_id: str) -> dict:
    me = caller(follows_api.current_request)
    service.approve(me.user_id, user_id)
    return {"user_id": user_id, "follows_me": True}


@follows_api.route("/follow-requests/{user_id}", methods=["DELETE"])
def decline_follow_request(user_id: str) -> Response:
    me = caller(follows_api.current_request)
    service.decline(me.user_id, user_id)
    return Response(body="", status_code=204)


@follows_api.route("/users/{user_id}/block", methods=["POST"])
def block(user_id: str) -> dict:
    me = caller(follows_api.current_request)
    return {"status": service.block(me.user_id, user_id)}


@follows_api.route("/users/{user_id}/block", methods=["DELETE"])
def unblock(user_id: str) -> Response:
    me = caller(follows_api.current_request)
    service.unblock(me.user_id, user_id)
    return Response(body="", status_code=204)


@follows_api.route("/blocks", methods=["GET"])
def blocked_accounts() -> dict:
    request = follows_api.current_request
    me = caller(request)
    scope = f"blocks:{me.user_id}"
    page = page_request(request, scope)
    return list_body(
        service.blocked_accounts(me.user_id, page), scope, users_schemas.render_summary
    )
