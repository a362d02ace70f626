from chalice import Blueprint, Response

from chalicelib.api.requests import body, caller
from chalicelib.core.lazy import lazy_module

service = lazy_module("chalicelib.media.service")
schemas = lazy_module("chalicelib.media.schemas")

media_api = Blueprint(__name__)


@media_api.route("/media/uploads", methods=["POST"])
def create_upload() -> Response:
    request = media_api.current_request
    media, upload = service.create_upload(
        caller(request).user_id, body(request, schemas.CreateUploadInput)
    )
    return Response(schemas.render_upload(media, upload), status_code=201)


@media_api.route("/media/{media_id}", methods=["GET"])
def get_media(media_id: str) -> dict:
    me = caller(media_api.current_request)
    return service.get_own_media(me.user_id, media_id)
