"""Media: an upload's life from presigned POST to renditions a client can fetch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from chalicelib.core.errors import AlreadyExists, NotAllowed, NotFound

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOADS_PREFIX = "uploads/"
RENDITIONS_PREFIX = "renditions/"
# What the resize function makes of every upload (``imaging.RENDITIONS`` sizes them), each
# under ``renditions/<media_id>/<name>.jpg``.
RENDITION_NAMES = ("thumb", "small", "medium", "large")
# Lambda invokes the resize function once per S3 event and retries a failed invocation twice
# (``infrastructure/deploy.py`` UPLOAD_MAX_RETRIES): the third attempt is the last.
MAX_PROCESSING_ATTEMPTS = 3
NOT_PROCESSED = "the upload could not be processed; upload it again"


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

    @property
    def is_attached(self) -> bool:
        """Whether something holds it already: a post, a story or a profile."""
        return any(held is not None for held in (self.post_id, self.story_id, self.avatar_of))


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


def object_keys(owner_id: str, media_id: str, renditions: Iterable[str] = ()) -> list[str]:
    """Every key a media's objects can have: the original and each rendition the resize
    function makes, whether or not it got as far as writing them, plus ``renditions`` (keys
    the item recorded, should the names ever change)."""
    made = [rendition_key(media_id, name) for name in RENDITION_NAMES]
    return list(dict.fromkeys([upload_key(owner_id, media_id), *made, *renditions]))


def media_id_of_key(key: str) -> str | None:
    """The media an object of the bucket belongs to, or None for a key outside the layout."""
    upload = parse_upload_key(key)
    if upload is not None:
        return upload[1]
    if key.startswith(RENDITIONS_PREFIX):
        media_id, _, name = key[len(RENDITIONS_PREFIX) :].partition("/")
        if media_id and name:
            return media_id
    return None


def processing_abandoned(
    status: MediaStatus, lease_until: int | None, attempts: int, now_epoch: int
) -> bool:
    """True for an upload no invocation is processing and none ever will: its last attempt's
    lease ran out without a result (that invocation timed out, or could not record its
    failure). A lease ends with its invocation, so this reads as failed at once."""
    return (
        status is MediaStatus.PROCESSING
        and attempts >= MAX_PROCESSING_ATTEMPTS
        and lease_until is not None
        and lease_until < now_epoch
    )


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


# Attaching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """What a photo is attached to, and what its media item records of it: a post or a story
    (their ids) or a profile (the user's id, as its avatar). ``purpose`` is what the photo
    must have been uploaded for, and names the holder in what a refusal says."""

    purpose: Purpose
    holder_id: str

    @classmethod
    def post(cls, post_id: str) -> Holder:
        return cls(Purpose.POST, post_id)

    @classmethod
    def story(cls, story_id: str) -> Holder:
        return cls(Purpose.STORY, story_id)

    @classmethod
    def avatar(cls, user_id: str) -> Holder:
        return cls(Purpose.AVATAR, user_id)


# How a media something holds already is described to whoever tries to attach it again.
_ALREADY = {Purpose.POST: "in a post", Purpose.STORY: "in a story", Purpose.AVATAR: "an avatar"}
# Holders to whom someone else's photo is as unknown as one that does not exist (404), so
# media ids leak nothing; the others say it is not yours (403), as the contract has it for
# posts.
_OTHERS_MEDIA_UNKNOWN = frozenset({Purpose.AVATAR})


def check_attachable(media_id: str, found: Media | None, owner_id: str, purpose: Purpose) -> None:
    """The rule for attaching a photo to a post, a story or a profile: the owner's own
    upload, made for that ``purpose``, ready and held by nothing yet (``found`` is None when
    it does not exist or expired).

    Raises NotFound (404), NotAllowed (403: someone else's, where the holder says so) or
    AlreadyExists (409: the request is well formed; the media's state refuses it).
    """
    hides_others = purpose in _OTHERS_MEDIA_UNKNOWN
    if found is None or (hides_others and found.owner_id != owner_id):
        unknown = f"no media with id {media_id!r}"
        raise NotFound(f"{unknown} is yours" if hides_others else unknown)
    if found.owner_id != owner_id:
        raise NotAllowed(f"media {media_id!r} is not yours")
    if found.purpose is not purpose:
        raise AlreadyExists(
            f"media {media_id!r} was uploaded as {found.purpose.value!r}; upload it with "
            f"purpose {purpose.value!r}"
        )
    if found.is_attached:
        raise AlreadyExists(f"media {media_id!r} is already {_ALREADY[purpose]}")
    if found.status in (MediaStatus.PENDING, MediaStatus.PROCESSING):
        raise AlreadyExists(f"media {media_id!r} is not ready yet; retry once it is")
    if found.status is MediaStatus.FAILED:
        raise AlreadyExists(f"media {media_id!r} could not be processed: {found.reason}")


class MediaNotAttachable(Exception):
    """A holder's transaction failed on these media: they changed after they were read and
    checked (another holder took one, it expired). Reading them again says why."""

    def __init__(self, media_ids: set[str]) -> None:
        super().__init__(f"media not attachable: {sorted(media_ids)}")
        self.media_ids = media_ids
