"""The media routes' bodies in and out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.core.schema import StrictInput
from chalicelib.media.domain import MAX_UPLOAD_BYTES, Media, Purpose
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


def render_media(media: Media, urls: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "media_id": media.media_id,
        "status": media.status.public_value,
        "width": media.width,
        "height": media.height,
        "renditions": {
            name: {
                "url": urls[name],
                "width": rendition.width,
                "height": rendition.height,
                "content_type": rendition.content_type,
            }
            for name, rendition in media.renditions.items()
        },
    }
    if media.reason:
        body["reason"] = media.reason
    return body
