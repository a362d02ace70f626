from chalice import Blueprint

from chalicelib.api.requests import body, caller
from chalicelib.core.lazy import lazy_module

service = lazy_module("chalicelib.users.service")
domain = lazy_module("chalicelib.users.domain")
schemas = lazy_module("chalicelib.users.schemas")

users_api = Blueprint(__name__)


@users_api.route("/users/me", methods=["GET"])
def get_me() -> dict:
    me = caller(users_api.current_request)
    user, relationship = service.profile(me.user_id, me.user_id)
    return schemas.render_profile(user, relationship)


@users_api.route("/users/me", methods=["PATCH"])
def update_me() -> dict:
    request = users_api.current_request
    user = service.update_own_profile(
        caller(request).user_id, body(request, schemas.UpdateProfileInput)
    )
    return schemas.render_profile(user, domain.Relationship())


@users_api.route("/users/{user_id}", methods=["GET"])
def get_user(user_id: str) -> dict:
    viewer = caller(users_api.current_request)
    return schemas.render_profile(*service.profile(viewer.user_id, user_id))


@users_api.route("/users/by-username/{username}", methods=["GET"])
def get_user_by_username(username: str) -> dict:
    viewer = caller(users_api.current_request)
    return schemas.render_profile(*service.profile_by_username(viewer.user_id, username))
