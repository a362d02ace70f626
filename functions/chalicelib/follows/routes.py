from chalice import Blueprint, Response

from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.follows import service
from chalicelib.users.schemas import render_summary

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
        service.followers(caller(request).user_id, user_id, page), scope, render_summary
    )


@follows_api.route("/users/{user_id}/following", methods=["GET"])
def following(user_id: str) -> dict:
    request = follows_api.current_request
    scope = f"following:{user_id}"
    page = page_request(request, scope)
    return list_body(
        service.following(caller(request).user_id, user_id, page), scope, render_summary
    )


@follows_api.route("/follow-requests", methods=["GET"])
def follow_requests() -> dict:
    request = follows_api.current_request
    me = caller(request)
    scope = f"follow-requests:{me.user_id}"
    page = page_request(request, scope)
    return list_body(service.pending_requests(me.user_id, page), scope, render_summary)


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
