"""API Gateway's own answers on the REST API (gateway responses), in the app's error shape.

API Gateway answers some requests without calling the REST function: a path no route has,
a request over the stage's throttle, a function that timed out or failed. Left alone, those
bodies are ``{"message": ...}``, and a path no route has is a 403 "Missing Authentication
Token", which, when the request carries an ``Authorization`` header, becomes a message that
repeats the header: the caller's token, in the response body. ``make deploy`` sets the
responses below on the stage's API (``infrastructure.deploy``) and the local REST gateway
answers with the same ones (``local.rest_gateway``), so a client sees
``{"Code", "Message"}`` on AWS and locally alike.

The unknown path's message is fixed text, never API Gateway's own message: with an
``Authorization`` header that message is the one that echoes it, and it is the same
response type (MISSING_AUTHENTICATION_TOKEN) with or without the header.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

# API Gateway's message, substituted as a JSON string (quotes included) into a template.
GATEWAY_MESSAGE = "$context.error.messageString"


@dataclass(frozen=True)
class GatewayResponse:
    """One gateway response type, answered with ``{"Code": code, "Message": ...}``.

    Attributes
    ----------
    response_type:
        API Gateway's name for the case (``MISSING_AUTHENTICATION_TOKEN``, ``DEFAULT_4XX``).
    code:
        The ``Code`` a client switches on: Chalice's names, as the app's own errors use.
    status:
        The HTTP status; None keeps API Gateway's own for each case the type covers.
    message:
        Fixed text for ``Message``; None uses API Gateway's message for the case.
    headers:
        Static headers added to the response.
    """

    response_type: str
    code: str
    status: int | None = None
    message: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def template(self) -> str:
        """The body template (simple substitution, not VTL) for ``application/json``."""
        message = GATEWAY_MESSAGE if self.message is None else json.dumps(self.message)
        return '{"Code":' + json.dumps(self.code) + ',"Message":' + message + "}"

    def body(self, gateway_message: str) -> str:
        """The body API Gateway sends, given its message for the case."""
        return self.template().replace(GATEWAY_MESSAGE, json.dumps(gateway_message))


NO_ROUTE = GatewayResponse(
    # Also what AWS answers for a method a resource lacks; make deploy gives every route's
    # resource an ANY method, so a wrong method reaches the app and gets 405 with Allow.
    "MISSING_AUTHENTICATION_TOKEN",
    "NotFoundError",
    status=404,
    message="No route matches this path",
)
FUNCTION_FAILED = GatewayResponse("DEFAULT_5XX", "InternalServerError")
GATEWAY_RESPONSES: tuple[GatewayResponse, ...] = (
    NO_ROUTE,
    # The stage's throttle (api_gateway_throttle in chalice.json): its bucket refills each second.
    GatewayResponse("THROTTLED", "TooManyRequestsError", status=429, headers={"Retry-After": "1"}),
    GatewayResponse("REQUEST_TOO_LARGE", "RequestTooLargeError", status=413),
    GatewayResponse("INTEGRATION_TIMEOUT", "GatewayTimeoutError", status=504),
    # What remains: API keys, authorizers, validators and signatures, none of which this API
    # uses, keep their own 4xx statuses; a failing function or configuration its 5xx.
    GatewayResponse("DEFAULT_4XX", "ClientError"),
    FUNCTION_FAILED,
)


def cors_headers(allowed_origins: str) -> dict[str, str]:
    """CORS headers for gateway responses, given the stage's ``CORS_ALLOWED_ORIGINS``.

    A gateway response's headers are static: API Gateway cannot compare the request's
    ``Origin`` with a list, as the app does. So they carry ``Access-Control-Allow-Origin``
    only when one value fits every allowed caller: ``*``, or a single exact origin. With
    several origins, or a port pattern, a browser sees these answers (throttled, timed out,
    no such path) as failed requests, without their status.
    """
    origins = [origin.strip() for origin in allowed_origins.split(",") if origin.strip()]
    if len(origins) != 1 or origins[0].endswith(":*"):
        return {}
    return {
        "Access-Control-Allow-Origin": origins[0],
        "Access-Control-Expose-Headers": "Retry-After",
    }
