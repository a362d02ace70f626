"""What every request passes through: observability, authentication, error mapping.

Authentication is deny-by-default: every route needs a verified token unless the contract
names it public, so a route added later is protected without anyone remembering to.

Each view is then served through its contract (``chalicelib.api.operations``): its body
and query parsed into its models, its answer rendered, domain errors mapped to statuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chalice import Chalice, Response
from chalice.app import Request

from chalicelib.api.cors import Cors
from chalicelib.api.operations import answer_error, is_public, serve
from chalicelib.api.requests import CALLER_KEY
from chalicelib.core.errors import DomainError
from chalicelib.core.lazy import lazy_module
from chalicelib.core.observability import annotate_trace, logger, register_observability

if TYPE_CHECKING:
    from chalicelib.auth import tokens
else:
    tokens = lazy_module("chalicelib.auth.tokens")  # PyJWT and cryptography: on first request


def authenticate(request: Request, get_response: Callable[[Request], Response]) -> Response:
    try:
        if not is_public(request.context.get("resourcePath", "")):
            verified = tokens.caller_from_authorization(request.headers.get("authorization"))
            request.context.setdefault("authorizer", {})[CALLER_KEY] = verified
            logger.append_keys(user_id=verified.user_id)
            annotate_trace("user_id", verified.user_id)
        return get_response(request)
    except DomainError as error:
        return answer_error(error)
    finally:
        logger.remove_keys(["user_id"])


def register_middleware(app: Chalice) -> None:
    """Install the request pipeline; call it after every blueprint is registered."""
    register_observability(app)
    app.register_middleware(Cors(app.routes), "http")  # outside authentication: preflights
    app.register_middleware(authenticate, "http")
    for path, methods in app.routes.items():
        for method, route in methods.items():
            if not getattr(route.view_function, "serves_contract", False):
                route.view_function = serve(app, path, method, route.view_function)
