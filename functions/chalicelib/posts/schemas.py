"""The posts routes' bodies in and out."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from chalicelib.core.clock import iso
from chalicelib.core.schema import ID_PATTERN, NonBlankText, Output, PlainText, StrictInput
from chalicelib.media.schemas import PhotoOut, render_photo
from chalicelib.media.storage import public_url
from chalicelib.posts.domain import (
    MAX_CAPTION,
    MAX_COMMENT,
    MAX_LOCATION,
    MAX_MEDIA_PER_POST,
    Comment,
    LikeState,
    PostView,
)
from chalicelib.users.domain import User
from chalicelib.users.schemas import UserRefOut, render_ref

MediaId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
Caption = Annotated[PlainText, StringConstraints(strip_whitespace=True, max_length=MAX_CAPTION)]
Location = Annotated[PlainText, StringConstraints(strip_whitespace=True, max_length=MAX_LOCATION)]
CommentText = Annotated[
    NonBlankText, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_COMMENT)
]


class CreatePostInput(StrictInput):
    media_ids: Annotated[
        list[MediaId],
        Field(min_length=1, max_length=MAX_MEDIA_PER_POST, json_schema_extra={"uniqueItems": True}),
    ]
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


class MentionOut(Output):
    user_id: str
    username: str


class PostOut(Output):
    post_id: str
    author: UserRefOut
    media: list[PhotoOut] = Field(description="1 to 10 photos, in the order they were posted.")
    caption: str = Field(description="Empty when there is none.")
    hashtags: list[str] = Field(description="The caption's #tags, lower-cased.")
    mentions: list[MentionOut] = Field(description="The caption's @usernames that exist.")
    location: str | None
    like_count: int
    comment_count: int
    liked_by_me: bool
    created_at: str = Field(description="ISO-8601 UTC with milliseconds and a Z.")


class LikeStateOut(Output):
    liked: bool
    like_count: int


class CommentOut(Output):
    comment_id: str
    post_id: str
    author: UserRefOut
    text: str
    created_at: str


def render_post(view: PostView) -> PostOut:
    """The contract's post as ``view``'s viewer sees it, its renditions' URLs made by
    ``storage.public_url``."""
    post = view.post
    return PostOut(
        post_id=post.post_id,
        author=render_ref(view.author),
        media=[render_photo(photo, public_url) for photo in post.media],
        caption=post.caption,
        hashtags=list(post.hashtags),
        mentions=[MentionOut(user_id=m.user_id, username=m.username) for m in post.mentions],
        location=post.location,
        like_count=post.like_count,
        comment_count=post.comment_count,
        liked_by_me=view.liked_by_me,
        created_at=iso(post.created_at),
    )


def render_like_state(state: LikeState) -> LikeStateOut:
    return LikeStateOut(liked=state.liked, like_count=state.like_count)


def render_comment(comment: Comment, author: User) -> CommentOut:
    return CommentOut(
        comment_id=comment.comment_id,
        post_id=comment.post_id,
        author=render_ref(author),
        text=comment.text,
        created_at=iso(comment.created_at),
    )
