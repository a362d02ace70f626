"""What every request passes through: observability, authentication, error mapping.

Authentication is deny-by-default: every route needs a verified token unless the contract
names it public, so a route added later is protected without anyone remembering to.

Chalice turns any exception a view raises into a bare 500 before middleware sees it (only
its own ``ChaliceViewError`` types escape), so each view is wrapped once to answer domain
errors with their mapped status.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response
from chalice.app import Request

from chalicelib.api.cors import Cors
from chalicelib.api.errors import error_response
from chalicelib.api.requests import CALLER_KEY
from chalicelib.core.errors import DomainError
from chalicelib.core.lazy import lazy_module
from chalicelib.core.observability import annotate_trace, logger, register_observability

tokens = lazy_module("chalicelib.auth.tokens")  # PyJWT and cryptography: on the first request


def is_public(resource_path: str) -> bool:
    """The contract's public routes: /health and /auth/*."""
    return resource_path == "/health" or resource_path.startswith("/auth/")


def authenticate(request: Request, get_response: Callable[[Request], Response]) -> Response:
    try:
        if not is_public(request.context.get("resourcePath", "")):
            verified = tokens.caller_from_authorization(request.headers.get("authorization"))
            request.context.setdefault("authorizer", {})[CALLER_KEY] = verified
            logger.append_keys(user_id=verified.user_id)
            annotate_trace("user_id", verified.user_id)
        return get_response(request)
    except DomainError as error:
        return _answer(error)
    finally:
        logger.remove_keys(["user_id"])


def _answer(error: DomainError) -> Response:
    response = error_response(error)
    if response.status_code >= 500:
        logger.warning("request failed upstream", error=error.code, detail=error.message)
    return response


def _answering_domain_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def answered(**path_params: Any) -> Any:
        try:
            return view(**path_params)
        except DomainError as error:
            return _answer(error)

    answered.answers_domain_errors = True  # type: ignore[attr-defined]
    return answered


def register_middleware(app: Chalice) -> None:
    """Install the request pipeline; call it after every blueprint is registered."""
    register_observability(app)
    app.register_middleware(Cors(app.routes), "http")  # outside authentication: preflights
    app.register_middleware(authenticate, "http")
    for methods in app.routes.values():
        for route in methods.values():
            if not getattr(route.view_function, "answers_domain_errors", False):
                route.view_function = _answering_domain_errors(route.view_function)
