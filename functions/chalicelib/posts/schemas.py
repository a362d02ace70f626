"""The posts routes' bodies in and out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from chalicelib.core.clock import iso
from chalicelib.core.schema import PlainText, StrictInput
from chalicelib.media.schemas import render_renditions
from chalicelib.posts.domain import (
    MAX_CAPTION,
    MAX_COMMENT,
    MAX_LOCATION,
    MAX_MEDIA_PER_POST,
    Comment,
    LikeState,
    Post,
)
from chalicelib.users.domain import User
from chalicelib.users.schemas import render_summary

MediaId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Caption = Annotated[PlainText, StringConstraints(strip_whitespace=True, max_length=MAX_CAPTION)]
Location = Annotated[PlainText, StringConstraints(strip_whitespace=True, max_length=MAX_LOCATION)]
CommentText = Annotated[
    PlainText, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_COMMENT)
]


class CreatePostInput(StrictInput):
    media_ids: Annotated[list[MediaId], Field(min_length=1, max_length=MAX_MEDIA_PER_POST)]
    caption: Caption | None = None
    location: Location | None = None

    @field_validator("media_ids")
    @classmethod
    def _each_once(cls, media_ids: list[str]) -> list[str]:
        if len(set(media_ids)) != len(media_ids):
            raise ValueError("must not name the same media twice")
        return media_ids


class CreateCommentInput(StrictInput):
    text: CommentText

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        # PlainText's validator runs between pydantic's length check and its stripping.
        if not text:
            raise ValueError("must not be blank")
        return text


def render_author(user: User) -> dict[str, Any]:
    """How a post or comment names its author: the user summary's identity fields."""
    summary = render_summary(user)
    return {field: summary[field] for field in ("user_id", "username", "avatar")}


def render_post(
    post: Post, author: User, liked_by_me: bool, url_for: Callable[[str], str]
) -> dict[str, Any]:
    """The contract's post; ``url_for`` turns a stored rendition key into a fetchable URL."""
    return {
        "post_id": post.post_id,
        "author": render_author(author),
        "media": [
            {
                "media_id": photo.media_id,
                "renditions": render_renditions(photo.renditions, url_for),
            }
            for photo in post.media
        ],
        "caption": post.caption,
        "hashtags": list(post.hashtags),
        "mentions": [{"user_id": m.user_id, "username": m.username} for m in post.mentions],
        "location": post.location,
        "like_count": post.like_count,
        "comment_count": post.comment_count,
        "liked_by_me": liked_by_me,
        "created_at": iso(post.created_at),
    }


def render_like_state(state: LikeState) -> dict[str, Any]:
    return {"liked": state.liked, "like_count": state.like_count}


def render_comment(comment: Comment, author: User) -> dict[str, Any]:
    return {
        "comment_id": comment.comment_id,
        "post_id": comment.post_id,
        "author": render_author(author),
        "text": comment.text,
        "created_at": iso(comment.created_at),
    }
