from chalice import Blueprint, Response

from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

service = lazy_module("chalicelib.saved.service")

saved_api = Blueprint(__name__)


@saved_api.route("/posts/{post_id}/save", methods=["POST"])
def save(post_id: str) -> dict:
    service.save(caller(saved_api.current_request).user_id, post_id)
    return {"saved": True}


@saved_api.route("/posts/{post_id}/save", methods=["DELETE"])
def unsave(post_id: str) -> Response:
    service.unsave(caller(saved_api.current_request).user_id, post_id)
    return Response(body="", status_code=204)


@saved_api.route("/saved", methods=["GET"])
def saved() -> dict:
    request = saved_api.current_request
    page = service.saved_posts(caller(request).user_id, page_request(request, "saved"))
    return list_body(page, "saved", lambda post: post)
