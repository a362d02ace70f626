"""The media routes' bodies in and out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.core.schema import StrictInput
from chalicelib.media.domain import MAX_UPLOAD_BYTES, Media, Purpose, StoredRendition
from chalicelib.media.storage import PresignedUpload


class CreateUploadInput(StrictInput):
    content_type: Literal[
        "image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"
    ]
    size_bytes: Annotated[int, Field(ge=1, le=MAX_UPLOAD_BYTES)]
    # Lax for this field only: strict mode would want a Purpose instance, not its JSON value.
    purpose: Purpose = Field(strict=False)


def render_upload(media: Media, upload: PresignedUpload) -> dict[str, Any]:
    return {
        "media_id": media.media_id,
        "upload": {"url": upload.url, "fields": upload.fields},
        "expires_in": upload.expires_in,
    }


def render_renditions(
    renditions: dict[str, StoredRendition], url_for: Callable[[str], str]
) -> dict[str, Any]:
    """Renditions as the contract shows them wherever a photo appears (media, posts,
    stories); ``url_for`` turns a stored key into a URL the client can fetch."""
    return {
        name: {
            "url": url_for(rendition.key),
            "width": rendition.width,
            "height": rendition.height,
            "content_type": rendition.content_type,
        }
        for name, rendition in renditions.items()
    }


def render_media(media: Media, url_for: Callable[[str], str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "media_id": media.media_id,
        "status": media.status.public_value,
        "width": media.width,
        "height": media.height,
        "renditions": render_renditions(media.renditions, url_for),
    }
    if media.reason:
        body["reason"] = media.reason
    return body
