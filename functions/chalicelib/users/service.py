"""Reading and editing profiles."""

from __future__ import annotations

from typing import Any

from chalicelib.core.clock import utc_now
from chalicelib.core.errors import AlreadyExists, DependencyUnavailable, NotFound
from chalicelib.core.observability import logger
from chalicelib.follows import repository as follows
from chalicelib.media import service as media
from chalicelib.media.domain import MediaNotAttachable, Purpose
from chalicelib.users import repository as users
from chalicelib.users.domain import (
    AvatarChanged,
    Relationship,
    User,
    normalise_username,
)
from chalicelib.users.schemas import UpdateProfileInput

# Reads of an avatar that keeps changing under us (concurrent requests) before giving up.
_SETTLE_ATTEMPTS = 3


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
    """Change the given fields; all of them, or none, in one write.

    ``avatar_media_id`` names the caller's own ready photo uploaded with purpose ``avatar``
    (someone else's or unknown: 404; another purpose, not ready or failed: 409), or is null
    to remove the avatar; the photo it replaces is deleted (its files with it).
    """
    fields = changes.model_dump(exclude_unset=True)
    if "full_name" in fields and fields["full_name"] is None:
        fields["full_name"] = ""
    if "bio" in fields and fields["bio"] is None:
        fields["bio"] = ""
    if "is_private" in fields and fields["is_private"] is None:
        del fields["is_private"]
    if "avatar_media_id" not in fields:
        return users.update_profile(user_id, fields)
    return _change_avatar(user_id, fields.pop("avatar_media_id"), fields)


def _change_avatar(user_id: str, media_id: str | None, fields: dict[str, Any]) -> User:
    for _ in range(_SETTLE_ATTEMPTS):
        current = users.get_user(user_id, consistent=True)
        previous = current.avatar.media_id if current.avatar is not None else None
        if media_id == previous:
            return users.update_profile(user_id, fields)
        now = utc_now()
        photo = None
        if media_id is not None:
            (photo,) = media.photos_to_attach(user_id, [media_id], Purpose.AVATAR, now)
        try:
            user = users.change_avatar(user_id, fields, photo, previous, now)
        except AvatarChanged:
            continue  # another request changed the avatar meanwhile: read it again
        except MediaNotAttachable as exc:
            # The photo changed since it was read (it expired, or another request made it
            # the avatar): read it again to say what.
            media.explain_refusal(user_id, exc, Purpose.AVATAR)
            raise AlreadyExists("the photo changed while the avatar was set; retry") from exc
        logger.info("avatar changed", user_id=user_id, replaced=previous is not None)
        return user
    raise DependencyUnavailable("the avatar keeps changing; retry shortly")
