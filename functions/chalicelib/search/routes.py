from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.core import schema
    from chalicelib.posts import schemas as posts_schemas
    from chalicelib.search import domain, schemas, service
else:
    schema = lazy_module("chalicelib.core.schema")
    domain = lazy_module("chalicelib.search.domain")
    posts_schemas = lazy_module("chalicelib.posts.schemas")
    schemas = lazy_module("chalicelib.search.schemas")
    service = lazy_module("chalicelib.search.service")

search_api = Blueprint(__name__)


@search_api.route("/search", methods=["GET"])
def search(query: schemas.SearchQuery) -> schema.ListOf[schemas.SearchResult]:
    """Users, hashtags or posts, by ``type``; eventually consistent within seconds."""
    request = search_api.current_request
    paging = page_request(request, service.search_scope(query.type, query.q))
    page = service.search(caller(request).user_id, query.type, query.q, paging)
    return list_body(page, paging, schemas.render_result)


@search_api.route("/hashtags/{tag}/posts", methods=["GET"])
def hashtag_posts(tag: schemas.TagInPath) -> schema.ListOf[posts_schemas.PostOut]:
    """The posts carrying a hashtag (with or without its #), newest first."""
    request = search_api.current_request
    name = domain.hashtag(tag)
    paging = page_request(request, service.hashtag_scope(name))
    page = service.hashtag_posts(caller(request).user_id, name, paging)
    return list_body(page, paging, posts_schemas.render_post)
