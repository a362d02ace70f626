"""The users routes' bodies in and out."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.core.schema import Output, PlainText, StrictInput
from chalicelib.media.schemas import PhotoOut, render_photo
from chalicelib.media.storage import public_url
from chalicelib.users.domain import MAX_BIO, MAX_FULL_NAME, Relationship, User

FullName = Annotated[PlainText, StringConstraints(strip_whitespace=True, max_length=MAX_FULL_NAME)]
Bio = Annotated[PlainText, StringConstraints(max_length=MAX_BIO)]


class UpdateProfileInput(StrictInput):
    full_name: FullName | None = None
    bio: Bio | None = None
    is_private: bool | None = None
    avatar_media_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="Your own ready photo uploaded with purpose avatar; null removes the "
        "avatar. The photo it replaces is deleted, with its files.",
    )


class UserRefOut(Output):
    """A user named inside something else: a post's author, a notification's actor."""

    user_id: str
    username: str
    avatar: PhotoOut | None = Field(
        description="The user's avatar photo (renditions thumb, small, medium, large), or null."
    )


class UserSummaryOut(UserRefOut):
    """How a user appears in lists: followers, following, search, blocks."""

    full_name: str


class ProfileOut(UserSummaryOut):
    """A profile, and how the caller relates to it."""

    bio: str
    is_private: bool
    follower_count: int
    following_count: int
    post_count: int
    followed_by_me: bool
    follows_me: bool
    follow_requested_by_me: bool = Field(
        description="The caller asked to follow this private account and awaits approval."
    )
    blocked_by_me: bool


def render_avatar(user: User) -> PhotoOut | None:
    """The avatar wherever a user appears, from the profile alone (the photo is kept on it),
    its renditions' URLs made by ``storage.public_url``."""
    return render_photo(user.avatar, public_url) if user.avatar is not None else None


def render_ref(user: User) -> UserRefOut:
    return UserRefOut(user_id=user.user_id, username=user.username, avatar=render_avatar(user))


def render_summary(user: User) -> UserSummaryOut:
    return UserSummaryOut(
        user_id=user.user_id,
        username=user.username,
        full_name=user.full_name,
        avatar=render_avatar(user),
    )


def render_profile(user: User, relationship: Relationship) -> ProfileOut:
    return ProfileOut(
        user_id=user.user_id,
        username=user.username,
        full_name=user.full_name,
        avatar=render_avatar(user),
        bio=user.bio,
        is_private=user.is_private,
        follower_count=user.follower_count,
        following_count=user.following_count,
        post_count=user.post_count,
        followed_by_me=relationship.followed_by_me,
        follows_me=relationship.follows_me,
        follow_requested_by_me=relationship.follow_requested_by_me,
        blocked_by_me=relationship.blocked_by_me,
    )
