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
    TokenExpired,
)

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    InvalidInput: 400,
    NotAuthenticated: 401,
    TokenExpired: 401,  # the WebSocket's, for a connection's token; REST says UnauthorizedError
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
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_seconds)
        headers.update(rate_limit_headers(error.limit, 0, error.resets_at))
    # The body is ``chalicelib.core.schema.ErrorOut`` (which the OpenAPI document shows),
    # written out here so that an error, a 401 at a cold start say, does not import pydantic.
    return Response(
        body={"Code": error.code, "Message": error.message}, status_code=status, headers=headers
    )


def rate_limit_headers(limit: int, remaining: int, resets_at: int) -> dict[str, str]:
    """``X-RateLimit-*`` as GitHub sends them: the window's limit, what is left of it, and
    when the window resets (epoch seconds); on every response of a rate-limited route."""
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, remaining)),
        "X-RateLimit-Reset": str(resets_at),
    }
