from chalice import Blueprint

from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

domain = lazy_module("chalicelib.search.domain")
service = lazy_module("chalicelib.search.service")

search_api = Blueprint(__name__)


@search_api.route("/search", methods=["GET"])
def search() -> dict:
    request = search_api.current_request
    params = dict(request.query_params or {})
    kind = domain.search_type(params.get("type"))
    q = domain.checked_query(params.get("q"))
    scope = service.search_scope(kind, q)
    page = service.search(caller(request).user_id, kind, q, page_request(request, scope))
    return list_body(page, scope, lambda item: item)


@search_api.route("/hashtags/{tag}/posts", methods=["GET"])
def hashtag_posts(tag: str) -> dict:
    request = search_api.current_request
    name = domain.hashtag(tag)
    scope = service.hashtag_scope(name)
    page = service.hashtag_posts(caller(request).user_id, name, page_request(request, scope))
    return list_body(page, scope, lambda item: item)
