"""Token verification: the only source of a caller's identity.

Access tokens are checked against the user pool's published keys (JWKS, fetched once and
cached), the issuer, the app client and the expiry — the same code on AWS, on the local stack
and in tests; only the JWKS URL differs (see ``Settings.jwks_url``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import jwt
from jwt import PyJWKClient, PyJWKClientConnectionError, PyJWKClientError

from chalicelib.core.config import get_settings
from chalicelib.core.errors import DependencyUnavailable, NotAuthenticated

_LEEWAY_SECONDS = 5
_MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the verified token says, and until when it says so (its ``exp``:
    a WebSocket connection opened with the token is closed then)."""

    user_id: str
    username: str
    expires_at: datetime


class TokenVerifier:
    """Verifies Cognito access tokens.

    Parameters
    ----------
    jwks_url, issuer, client_id:
        Where the pool publishes its keys, who must have issued the token, and the app
        client it must have been issued to.
    """

    def __init__(self, jwks_url: str, issuer: str, client_id: str) -> None:
        self._keys = PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=5)
        self._issuer = issuer
        self._client_id = client_id

    def verify(self, token: str) -> Caller:
        invalid = NotAuthenticated("the token is invalid or expired; log in again")
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            raise invalid
        try:
            key = self._keys.get_signing_key_from_jwt(token)
        except PyJWKClientConnectionError as exc:
            raise DependencyUnavailable("cannot reach the identity service's keys") from exc
        except (PyJWKClientError, jwt.PyJWTError) as exc:
            raise invalid from exc
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"]},
            )
        except jwt.PyJWTError as exc:
            raise invalid from exc
        if claims.get("token_use") != "access" or claims.get("client_id") != self._client_id:
            raise invalid
        return Caller(
            user_id=claims["sub"],
            username=claims.get("username", ""),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )


@cache
def token_verifier() -> TokenVerifier:
    settings = get_settings()
    return TokenVerifier(settings.jwks_url, settings.token_issuer, settings.user_pool_client_id)


def caller_from_authorization(header: str | None) -> Caller:
    """The caller named by an ``Authorization: Bearer <token>`` header."""
    if not header:
        raise NotAuthenticated("send Authorization: Bearer <token>; log in to get a token")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("the Authorization header must be: Bearer <token>")
    return token_verifier().verify(token.strip())
