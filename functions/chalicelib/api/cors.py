"""CORS: which web pages may call the REST API from a browser, and the headers that say so.

The stage's ``CORS_ALLOWED_ORIGINS`` (``Settings.cors_allowed_origins``) lists the origins.
For a request from one of them (its ``Origin`` header), every response, errors included,
names that origin in ``Access-Control-Allow-Origin`` and exposes the headers a client reads
(``Retry-After``, ``Idempotent-Replayed``, the rate-limit headers, ``WWW-Authenticate``). A
preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered
here, before authentication, since browsers send it without the ``Authorization`` header:
204 with the route's methods and the request headers the API reads. Another origin gets no
CORS header, and its preflight a 403, so its browser refuses to send the request.

API Gateway sends every method of a route's path to the function (``make deploy`` adds an
``ANY`` method; the local gateway does the same), so preflights reach this middleware.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.api.errors import error_response
from chalicelib.core.config import get_settings
from chalicelib.core.errors import NotAllowed

ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
EXPOSED_HEADERS = (
    "Retry-After, Idempotent-Replayed, X-RateLimit-Limit, X-RateLimit-Remaining, "
    "X-RateLimit-Reset, WWW-Authenticate"
)
# How long a browser may reuse a preflight's answer: two hours, Chromium's cap.
MAX_AGE_SECONDS = 7200


@cache
def origin_pattern(allowed_origins: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for the allowed origins: ``*`` is any, ``host:*`` any port of the host."""
    alternatives = []
    for origin in allowed_origins:
        if origin == "*":
            alternatives.append(r"[^\s]+")
        elif origin.endswith(":*"):
            alternatives.append(re.escape(origin[:-2]) + r"(:\d{1,5})?")
        else:
            alternatives.append(re.escape(origin))
    return re.compile("|".join(alternatives) or r"(?!)")


def is_allowed(origin: str, allowed_origins: tuple[str, ...]) -> bool:
    return origin_pattern(allowed_origins).fullmatch(origin) is not None


class Cors:
    """Chalice HTTP middleware applying the stage's CORS policy to the routes of ``routes``."""

    def __init__(self, routes: Mapping[str, Mapping[str, Any]]) -> None:
        self._routes = routes

    def __call__(self, request: Request, get_response: Callable[[Request], Response]) -> Response:
        origin: str | None = request.headers.get("origin")
        # Settings are read only for a browser's request: a cold start without one loads no
        # pydantic for this.
        allowed = origin is not None and is_allowed(origin, get_settings().cors_origins)
        if (
            origin is not None
            and request.method == "OPTIONS"
            and "access-control-request-method" in request.headers
        ):
            response = self._preflight(request, origin) if allowed else _refused(origin)
        else:
            response = get_response(request)
            if origin is not None and allowed:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        # Whether these headers are there depends on Origin: no cache may serve one
        # origin's response to another.
        response.headers["Vary"] = _with_origin(response.headers.get("Vary"))
        return response

    def _preflight(self, request: Request, origin: str) -> Response:
        methods = sorted(self._routes.get(request.context.get("resourcePath", ""), {}))
        return Response(
            body="",
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ", ".join(methods),
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
            },
        )


def _refused(origin: str) -> Response:
    return error_response(NotAllowed(f"the origin {origin} may not call this API from a browser"))


def _with_origin(vary: str | list[str] | None) -> str:
    joined = ",".join(vary) if isinstance(vary, list) else vary or ""
    listed = [v.strip() for v in joined.split(",") if v.strip()]
    if not any(v.lower() in ("origin", "*") for v in listed):
        listed.append("Origin")
    return ", ".join(listed)
