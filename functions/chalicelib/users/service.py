"""Reading and editing profiles."""

from __future__ import annotations

from chalicelib.core.errors import NotFound
from chalicelib.follows import repository as follows
from chalicelib.users import repository as users
from chalicelib.users.domain import Relationship, User, normalise_username
from chalicelib.users.schemas import UpdateProfileInput


def profile(viewer_id: str, user_id: str) -> tuple[User, Relationship]:
    user = users.get_user(user_id)
    if viewer_id == user_id:
        return user, Relationship()
    return user, follows.relationship(viewer_id, user_id)


def profile_by_username(viewer_id: str, username: str) -> tuple[User, Relationship]:
    user_id = users.find_user_id(normalise_username(username))
    if user_id is None:
        raise NotFound(f"no user is called {username[:30]!r}")
    return profile(viewer_id, user_id)


def update_own_profile(user_id: str, changes: UpdateProfileInput) -> User:
    fields = changes.model_dump(exclude_unset=True)
    if fields.get("avatar_media_id") is not None:
        # Avatars must be the caller's own ready media; until uploads exist there is none.
        raise NotFound("no ready media with that id belongs to you")
    if "full_name" in fields and fields["full_name"] is None:
        fields["full_name"] = ""
    if "bio" in fields and fields["bio"] is None:
        fields["bio"] = ""
    if "is_private" in fields and fields["is_private"] is None:
        del fields["is_private"]
    return users.update_profile(user_id, fields)
