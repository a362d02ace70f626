"""The users routes' bodies in and out."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from chalicelib.core.schema import PlainText, StrictInput
from chalicelib.users.domain import MAX_BIO, MAX_FULL_NAME, Relationship, User

FullName = Annotated[PlainText, StringConstraints(strip_whitespace=True, max_length=MAX_FULL_NAME)]
Bio = Annotated[PlainText, StringConstraints(max_length=MAX_BIO)]


class UpdateProfileInput(StrictInput):
    full_name: FullName | None = None
    bio: Bio | None = None
    is_private: bool | None = None
    avatar_media_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


def render_summary(user: User) -> dict[str, Any]:
    """How a user appears in lists: followers, following, search, authors."""
    return {
        "user_id": user.user_id,
        "username": user.username,
        "full_name": user.full_name,
        "avatar": None,
    }


def render_profile(user: User, relationship: Relationship) -> dict[str, Any]:
    return {
        **render_summary(user),
        "bio": user.bio,
        "is_private": user.is_private,
        "follower_count": user.follower_count,
        "following_count": user.following_count,
        "post_count": user.post_count,
        "followed_by_me": relationship.followed_by_me,
        "follows_me": relationship.follows_me,
        "follow_requested_by_me": relationship.follow_requested_by_me,
        "blocked_by_me": relationship.blocked_by_me,
    }
