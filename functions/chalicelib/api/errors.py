"""The one mapping from domain errors to HTTP, in Chalice's ``{"Code", "Message"}`` shape."""

from __future__ import annotations

from chalice import Response

from chalicelib.core.errors import (
    AlreadyExists,
    DependencyUnavailable,
    DomainError,
    IdempotencyKeyReused,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    RateLimited,
)

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    InvalidInput: 400,
    NotAuthenticated: 401,
    NotAllowed: 403,
    NotFound: 404,
    AlreadyExists: 409,
    # The IETF Idempotency-Key draft's status for a key reused with another payload.
    IdempotencyKeyReused: 422,
    RateLimited: 429,
    DependencyUnavailable: 503,
}


def error_response(error: DomainError) -> Response:
    status = next((code for kind, code in STATUS_BY_ERROR.items() if isinstance(error, kind)), 500)
    headers = {"Content-Type": "application/json"}
    if isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return Response(
        body={"Code": error.code, "Message": error.message}, status_code=status, headers=headers
    )
