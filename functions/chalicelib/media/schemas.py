"""The media routes' bodies in and out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import Field

from chalicelib.core.schema import WHOLE_NUMBER, Output, StrictInput
from chalicelib.media.domain import (
    MAX_UPLOAD_BYTES,
    AttachedMedia,
    Media,
    Purpose,
    StoredRendition,
)
from chalicelib.media.storage import PresignedUpload, public_url


class CreateUploadInput(StrictInput):
    content_type: Literal[
        "image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"
    ]
    size_bytes: Annotated[int, Field(ge=1, le=MAX_UPLOAD_BYTES), WHOLE_NUMBER]
    # Lax for this field only: strict mode would want a Purpose instance, not its JSON value.
    purpose: Purpose = Field(strict=False)


class PresignedPostOut(Output):
    """An S3 presigned POST: send the file to ``url`` as multipart/form-data with every
    field of ``fields`` first, then the file as the ``file`` field."""

    url: str
    fields: dict[str, str]


class UploadOut(Output):
    media_id: str
    upload: PresignedPostOut
    expires_in: int = Field(description="Seconds the upload form stays valid.")


class RenditionOut(Output):
    url: str = Field(description="Fetchable as is: a CDN URL, or a presigned S3 GET.")
    width: int
    height: int
    content_type: str


Renditions = Annotated[
    dict[str, RenditionOut],
    Field(
        description="By name: thumb (150x150 square crop), small (320 wide), medium (640 "
        "wide), large (1080 wide); never wider than the original."
    ),
]


class PhotoOut(Output):
    """A processed photo where it appears in a post, a story or a profile."""

    media_id: str
    width: int = Field(description="The upright original's size, in pixels.")
    height: int
    renditions: Renditions


class MediaOut(Output):
    """An upload as its owner sees it while and after it is processed."""

    media_id: str
    status: Literal["pending", "ready", "failed"]
    reason: str | None = Field(description="Why processing failed; null unless failed.")
    width: int | None
    height: int | None
    renditions: Renditions


def render_upload(media: Media, upload: PresignedUpload) -> UploadOut:
    return UploadOut(
        media_id=media.media_id,
        upload=PresignedPostOut(url=upload.url, fields=upload.fields),
        expires_in=upload.expires_in,
    )


def render_renditions(
    renditions: dict[str, StoredRendition], url_for: Callable[[str], str]
) -> dict[str, RenditionOut]:
    """Renditions as the contract shows them wherever a photo appears (media, posts,
    stories); ``url_for`` turns a stored key into a URL the client can fetch."""
    return {
        name: RenditionOut(
            url=url_for(rendition.key),
            width=rendition.width,
            height=rendition.height,
            content_type=rendition.content_type,
        )
        for name, rendition in renditions.items()
    }


def render_photo(photo: AttachedMedia, url_for: Callable[[str], str]) -> PhotoOut:
    return PhotoOut(
        media_id=photo.media_id,
        width=photo.width,
        height=photo.height,
        renditions=render_renditions(photo.renditions, url_for),
    )


def render_media(media: Media) -> MediaOut:
    """An upload as its owner sees it, its renditions' URLs made by ``storage.public_url``."""
    return MediaOut(
        media_id=media.media_id,
        status=media.status.public_value,  # type: ignore[arg-type]  # one of the three
        reason=media.reason or None,
        width=media.width,
        height=media.height,
        renditions=render_renditions(media.renditions, public_url),
    )
