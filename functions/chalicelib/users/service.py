"""Reading and editing profiles."""

from __future__ import annotations

from chalicelib.core.errors import NotFound
from chalicelib.follows import repository as follows
from chalicelib.users import repository as users
from chalicelib.users.domain import Relationship, User, normalise_username
from chalicelib.users.schemas import UpdateProfileInput


def profile(viewer_id: str, user_id: str) -> tuple[User, Relationship]:
    """The profile and how the viewer relates to it (one GetItem, one BatchGetItem). An
    account that blocked the viewer is NotFound, as one that does not exist; one the viewer
    blocked is shown (``blocked_by_me``), so they can unblock it."""
    user = users.get_user(user_id)
    if viewer_id == user_id:
        return user, Relationship()
    relationship = follows.relationship(viewer_id, user_id)
    if relationship.blocks_me:
        raise NotFound("no user with that id")
    return user, relationship


def profile_by_username(viewer_id: str, username: str) -> tuple[User, Relationship]:
    missing = f"no user is called {username[:30]!r}"
    user_id = users.find_user_id(normalise_username(username))
    if user_id is None:
        raise NotFound(missing)
    try:
        return profile(viewer_id, user_id)
    except NotFound as exc:  # gone meanwhile, or blocked the viewer: the same answer
        raise NotFound(missing) from exc


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
