from chalice import Blueprint

from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

service = lazy_module("chalicelib.feed.service")

feed_api = Blueprint(__name__)


@feed_api.route("/feed", methods=["GET"])
def get_feed() -> dict:
    request = feed_api.current_request
    me = caller(request)
    scope = f"feed:{me.user_id}"
    return list_body(
        service.read_feed(me.user_id, page_request(request, scope)), scope, lambda post: post
    )
