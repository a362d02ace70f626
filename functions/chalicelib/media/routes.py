from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.operations import operation
from chalicelib.api.requests import caller
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.media import schemas, service
else:
    schemas = lazy_module("chalicelib.media.schemas")
    service = lazy_module("chalicelib.media.service")

media_api = Blueprint(__name__)


@media_api.route("/media/uploads", methods=["POST"])
@operation(status=201, rate_limit="uploads")
def create_upload(details: schemas.CreateUploadInput) -> schemas.UploadOut:
    """Start an upload: a presigned S3 POST for one file of the declared type and size."""
    media, upload = service.create_upload(caller(media_api.current_request).user_id, details)
    return schemas.render_upload(media, upload)


@media_api.route("/media/{media_id}", methods=["GET"])
def get_media(media_id: str) -> schemas.MediaOut:
    """One of your uploads: pending until processed, then ready or failed (with a reason)."""
    me = caller(media_api.current_request)
    return schemas.render_media(service.get_own_media(me.user_id, media_id))
