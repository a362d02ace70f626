"""Posts, likes and comments: what a post is, and the ids that name them.

A post id is ``<ULID>_<author id>``, as Instagram's media ids are ``<media pk>_<owner pk>``:
whoever holds a post id also knows its author, so a page of posts, their authors and the
viewer's likes can be read in one BatchGetItem, and checks that depend on the author
(privacy, who may delete a comment) need no read of the post first. The id stays opaque to
clients; only this module takes it apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.core import ids
from chalicelib.media.domain import AttachedMedia
from chalicelib.users.domain import User

MAX_MEDIA_PER_POST = 10
MAX_CAPTION = 2200
MAX_LOCATION = 100
MAX_COMMENT = 2200
# Instagram's limits: more would make a caption a spam vector and a fan-out burden
# (every hashtag page and every mentioned user is a write).
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
# A ULID, "_" and a user id (Cognito's are 36 characters); DynamoDB keys stop at 2 KB.
MAX_POST_ID_LENGTH = 200


def new_post_id(author_id: str, at: datetime) -> str:
    return f"{ids.new_ulid(at)}_{author_id}"


def author_of(post_id: str) -> str | None:
    """The author named by a post id, or None when it is not one of ours (so no lookup is
    made of ids that cannot exist, however long or odd)."""
    if len(post_id) > MAX_POST_ID_LENGTH:
        return None
    stamp, separator, author_id = post_id.partition("_")
    if not separator or not author_id or not ids.is_ulid(stamp):
        return None
    return author_id


def new_comment_id(at: datetime) -> str:
    """Time-ordered, so a post's comments list oldest first by their range key."""
    return ids.new_ulid(at)


def is_comment_id(comment_id: str) -> bool:
    return ids.is_ulid(comment_id)


@dataclass(frozen=True)
class Mention:
    user_id: str
    username: str


@dataclass(frozen=True)
class Post:
    post_id: str
    author_id: str
    created_at: datetime
    media: tuple[AttachedMedia, ...]
    caption: str = ""
    hashtags: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    location: str | None = None
    like_count: int = 0
    comment_count: int = 0


@dataclass(frozen=True)
class PostView:
    """A post as one viewer sees it, with the facts that decided whether they may: what
    every read of posts returns, and ``posts/schemas.py`` renders."""

    post: Post
    author: User
    liked_by_me: bool
    viewer_follows_author: bool = False
    blocked_by_author: bool = False


@dataclass(frozen=True)
class Comment:
    comment_id: str
    post_id: str
    post_author_id: str
    author_id: str
    text: str
    created_at: datetime
    mention_ids: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class LikeState:
    liked: bool
    like_count: int


@dataclass(frozen=True, order=True)
class PostRef:
    """A post as the feed orders it: by creation time, then id, so order is total."""

    created_at: str  # ISO-8601 with milliseconds and Z: sorts as time does
    post_id: str
    author_id: str

    @property
    def entry_key(self) -> str:
        return f"{self.created_at}#{self.post_id}"
