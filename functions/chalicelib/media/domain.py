"""Media: an upload's life from presigned POST to renditions a client can fetch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOADS_PREFIX = "uploads/"
RENDITIONS_PREFIX = "renditions/"


class Purpose(StrEnum):
    POST = "post"
    STORY = "story"
    AVATAR = "avatar"


class MediaStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"  # internal: a resize function holds the lease
    READY = "ready"
    FAILED = "failed"

    @property
    def public_value(self) -> str:
        """What clients see: processing is still pending to them."""
        return MediaStatus.PENDING.value if self is MediaStatus.PROCESSING else self.value


@dataclass(frozen=True)
class StoredRendition:
    key: str
    width: int
    height: int
    content_type: str


@dataclass(frozen=True)
class Media:
    media_id: str
    owner_id: str
    purpose: Purpose
    declared_type: str
    declared_size: int
    status: MediaStatus
    created_at: datetime
    reason: str | None = None
    width: int | None = None
    height: int | None = None
    renditions: dict[str, StoredRendition] = field(default_factory=dict)
    post_id: str | None = None  # the post it belongs to, once attached (one post only)
    story_id: str | None = None  # the story it belongs to, once attached
    avatar_of: str | None = None  # the user whose avatar it is, while it is

    @property
    def upload_key(self) -> str:
        return upload_key(self.owner_id, self.media_id)


def upload_key(owner_id: str, media_id: str) -> str:
    """Where the original goes: keyed by owner, so the event names whose upload it is."""
    return f"{UPLOADS_PREFIX}{owner_id}/{media_id}"


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """``(owner_id, media_id)`` of an upload key, or None for anything else."""
    if not key.startswith(UPLOADS_PREFIX):
        return None
    parts = key[len(UPLOADS_PREFIX) :].split("/")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


def rendition_key(media_id: str, name: str) -> str:
    return f"{RENDITIONS_PREFIX}{media_id}/{name}.jpg"


@dataclass(frozen=True)
class AttachedMedia:
    """A photo as a post, a story or a profile (its avatar) keeps it: enough to render
    without the media table."""

    media_id: str
    width: int
    height: int
    renditions: dict[str, StoredRendition]


def attached(ready: Media) -> AttachedMedia:
    return AttachedMedia(
        ready.media_id, ready.width or 0, ready.height or 0, dict(ready.renditions)
    )
