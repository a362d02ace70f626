from chalice import Blueprint

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
    scope = f"followers:{user_id}"
    page = page_request(follows_api.current_request, scope)
    return list_body(service.followers(user_id, page), scope, render_summary)


@follows_api.route("/users/{user_id}/following", methods=["GET"])
def following(user_id: str) -> dict:
    scope = f"following:{user_id}"
    page = page_request(follows_api.current_request, scope)
    return list_body(service.following(user_id, page), scope, render_summary)
