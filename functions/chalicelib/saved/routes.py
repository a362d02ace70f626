from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.operations import operation
from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.core import schema
    from chalicelib.posts import schemas as posts_schemas
    from chalicelib.saved import schemas, service
else:
    schema = lazy_module("chalicelib.core.schema")
    posts_schemas = lazy_module("chalicelib.posts.schemas")
    schemas = lazy_module("chalicelib.saved.schemas")
    service = lazy_module("chalicelib.saved.service")

saved_api = Blueprint(__name__)


@saved_api.route("/posts/{post_id}/save", methods=["POST"])
@operation(errors=(403,))
def save(post_id: str) -> schemas.SavedOut:
    """Save a post you may see, to come back to; idempotent."""
    service.save(caller(saved_api.current_request).user_id, post_id)
    return schemas.SavedOut()


@saved_api.route("/posts/{post_id}/save", methods=["DELETE"])
def unsave(post_id: str) -> None:
    """Forget a saved post; idempotent."""
    service.unsave(caller(saved_api.current_request).user_id, post_id)


@saved_api.route("/saved", methods=["GET"])
def saved() -> schema.ListOf[posts_schemas.PostOut]:
    """Your saved posts, most recently saved first."""
    request = saved_api.current_request
    paging = page_request(request)
    page = service.saved_posts(caller(request).user_id, paging)
    return list_body(page, paging, posts_schemas.render_post)
