from chalice import Blueprint

from chalicelib.api.requests import body, caller
from chalicelib.users import service
from chalicelib.users.domain import Relationship
from chalicelib.users.schemas import UpdateProfileInput, render_profile

users_api = Blueprint(__name__)


@users_api.route("/users/me", methods=["GET"])
def get_me() -> dict:
    me = caller(users_api.current_request)
    user, relationship = service.profile(me.user_id, me.user_id)
    return render_profile(user, relationship)


@users_api.route("/users/me", methods=["PATCH"])
def update_me() -> dict:
    request = users_api.current_request
    user = service.update_own_profile(caller(request).user_id, body(request, UpdateProfileInput))
    return render_profile(user, Relationship())


@users_api.route("/users/{user_id}", methods=["GET"])
def get_user(user_id: str) -> dict:
    viewer = caller(users_api.current_request)
    return render_profile(*service.profile(viewer.user_id, user_id))


@users_api.route("/users/by-username/{username}", methods=["GET"])
def get_user_by_username(username: str) -> dict:
    viewer = caller(users_api.current_request)
    return render_profile(*service.profile_by_username(viewer.user_id, username))
