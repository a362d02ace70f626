from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.operations import operation
from chalicelib.api.requests import caller
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.users import domain, schemas, service
else:
    domain = lazy_module("chalicelib.users.domain")
    schemas = lazy_module("chalicelib.users.schemas")
    service = lazy_module("chalicelib.users.service")

users_api = Blueprint(__name__)


@users_api.route("/users/me", methods=["GET"])
def get_me() -> schemas.ProfileOut:
    """Your own profile."""
    me = caller(users_api.current_request)
    user, relationship = service.profile(me.user_id, me.user_id)
    return schemas.render_profile(user, relationship)


@users_api.route("/users/me", methods=["PATCH"])
@operation(errors=(404, 409))
def update_me(changes: schemas.UpdateProfileInput) -> schemas.ProfileOut:
    """Change your name, bio, privacy or avatar; fields you leave out stay as they are. An
    avatar photo not yours or unknown: 404; uploaded for another purpose or not ready: 409."""
    user = service.update_own_profile(caller(users_api.current_request).user_id, changes)
    return schemas.render_profile(user, domain.Relationship())


@users_api.route("/users/{user_id}", methods=["GET"])
def get_user(user_id: str) -> schemas.ProfileOut:
    """A profile, and how you relate to it."""
    viewer = caller(users_api.current_request)
    return schemas.render_profile(*service.profile(viewer.user_id, user_id))


@users_api.route("/users/by-username/{username}", methods=["GET"])
def get_user_by_username(username: str) -> schemas.ProfileOut:
    """A profile, found by its username (any case)."""
    viewer = caller(users_api.current_request)
    return schemas.render_profile(*service.profile_by_username(viewer.user_id, username))
