"""What every route reads from a request: the caller, the body, and list parameters."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING

from chalice.app import Request

from chalicelib.core.config import get_settings
from chalicelib.core.errors import InvalidInput, NotAuthenticated
from chalicelib.core.lazy import lazy_module
from chalicelib.core.pagination import CursorCodec, Page, PageRequest, parse_limit

if TYPE_CHECKING:
    from chalicelib.auth import tokens
    from chalicelib.auth.tokens import Caller
    from chalicelib.core import schema
    from chalicelib.core.schema import ListOf, Output, QueryInput, StrictInput
else:
    # Imported on first use: PyJWT with cryptography, and pydantic (chalicelib/core/lazy.py).
    tokens = lazy_module("chalicelib.auth.tokens")
    schema = lazy_module("chalicelib.core.schema")

CALLER_KEY = "caller"


def caller(request: Request) -> Caller:
    """The verified caller the authentication middleware attached to this request."""
    verified = (request.context.get("authorizer") or {}).get(CALLER_KEY)
    if not isinstance(verified, tokens.Caller):
        raise NotAuthenticated("send Authorization: Bearer <token>; log in to get a token")
    return verified


def body[M: StrictInput](request: Request, model: type[M]) -> M:
    raw = request.raw_body
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if not raw:
        raise InvalidInput("the request body must be a JSON object")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("the request body is not valid JSON") from exc
    except RecursionError as exc:  # nesting deeper than the parser's stack
        raise InvalidInput("the request body is nested too deeply") from exc
    if _has_lone_surrogates(raw, data):
        # JSON can spell "\ud800", which no UTF-8 store or AWS API accepts.
        raise InvalidInput("the request body contains text that is not valid Unicode")
    return schema.validate_input(model, data)


def query[Q: QueryInput](request: Request, model: type[Q]) -> Q:
    """The query string's parameters as ``model``; a value that does not fit is a 400."""
    return schema.validate_query(model, dict(request.query_params or {}))


def _has_lone_surrogates(raw: bytes, data: object) -> bool:
    if b"\\u" not in raw.lower():  # only an escape can spell a lone surrogate
        return False
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@cache
def cursor_codec() -> CursorCodec:
    return CursorCodec(get_settings().cursor_secret)


def page_request(request: Request, *qualifiers: str) -> PageRequest:
    """``?limit=`` and ``?cursor=``, checked.

    A cursor belongs to the list it came from and to the caller it was given to: its scope
    is the caller's id, the route, its path parameters and ``qualifiers`` (whatever else
    picks the list: a search's type and query, a conversation's ``after_seq``). It is
    computed here, for every list route alike, so none can forget the caller; ``list_body``
    signs the next cursor with the same scope, carried by the returned ``PageRequest``.
    """
    parameters: Mapping[str, str] = request.query_params or {}
    scope = list_scope(request, qualifiers)
    return PageRequest(
        limit=parse_limit(parameters.get("limit")),
        position=cursor_codec().decode(parameters.get("cursor"), scope),
        scope=scope,
    )


def list_scope(request: Request, qualifiers: tuple[str, ...] = ()) -> str:
    """The list a request reads, as its cursors are scoped: caller, route, path, qualifiers."""
    route = f"{request.method} {request.context.get('resourcePath', '')}"
    path = sorted((request.uri_params or {}).items())
    return json.dumps([caller(request).user_id, route, path, list(qualifiers)])


def list_body[T, O: Output](
    page: Page[T], paging: PageRequest, render: Callable[[T], O]
) -> ListOf[O]:
    """A page as the contract lists it: its items rendered, and the next page's cursor,
    scoped as the request's (``page_request``)."""
    if not paging.scope:
        raise ValueError("list_body needs the PageRequest that page_request made")
    return schema.ListOf(
        items=[render(item) for item in page.items],
        next_cursor=cursor_codec().encode(page.position, paging.scope),
    )
