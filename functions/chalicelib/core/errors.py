"""Domain errors: what went wrong, in words a client developer can act on.

The data layer turns SDK errors into these with ``raise ... from exc``; the API layer maps
each to an HTTP status in one place (``chalicelib.api.errors``). Nothing here knows HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a caller is meant to see."""

    code = "DomainError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    code = "BadRequestError"


class NotAuthenticated(DomainError):
    code = "UnauthorizedError"


class TokenExpired(NotAuthenticated):
    """The token a WebSocket connection was opened with has expired: reconnect with a new one."""

    code = "TokenExpired"


class NotAllowed(DomainError):
    code = "ForbiddenError"


class NotFound(DomainError):
    code = "NotFoundError"


class AlreadyExists(DomainError):
    code = "ConflictError"


class IdempotencyKeyReused(DomainError):
    """A request repeats an earlier request's Idempotency-Key with a different body."""

    code = "UnprocessableEntityError"


class RateLimited(DomainError):
    """Over a per-user limit of ``limit`` in a window that ends at ``resets_at`` (epoch s)."""

    code = "TooManyRequestsError"

    def __init__(self, message: str, retry_after_seconds: int, limit: int, resets_at: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        self.limit = limit
        self.resets_at = resets_at


class DependencyUnavailable(DomainError):
    """A managed service we rely on failed or is throttling us; the client may retry."""

    code = "ServiceUnavailableError"
