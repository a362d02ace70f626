from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.core import schema
    from chalicelib.feed import service
    from chalicelib.posts import schemas
else:
    schema = lazy_module("chalicelib.core.schema")
    schemas = lazy_module("chalicelib.posts.schemas")
    service = lazy_module("chalicelib.feed.service")

feed_api = Blueprint(__name__)


@feed_api.route("/feed", methods=["GET"])
def get_feed() -> schema.ListOf[schemas.PostOut]:
    """Posts of the accounts you follow, and your own, newest first."""
    request = feed_api.current_request
    paging = page_request(request)
    page = service.read_feed(caller(request).user_id, paging)
    return list_body(page, paging, schemas.render_post)
