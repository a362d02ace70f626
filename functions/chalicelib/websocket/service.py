"""Opening and closing WebSocket connections, and knowing who is on one."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.auth.tokens import Caller, token_verifier
from chalicelib.core.clock import utc_now
from chalicelib.core.config import get_settings
from chalicelib.core.errors import NotAuthenticated, TokenExpired
from chalicelib.core.memo import BoundedMemo
from chalicelib.core.observability import logger
from chalicelib.websocket import repository as connections
from chalicelib.websocket.domain import OpenedConnection


def open_connection(connection_id: str, token: str | None) -> Caller:
    """Verify the token from ``?token=`` and remember the connection under its user.

    API Gateway cannot run a Cognito authorizer on ``$connect`` for Chalice, so the handler
    refuses here.
    """
    if not token:
        raise NotAuthenticated("connect with ?token=<access token>")
    caller = token_verifier().verify(token)
    lifetime = timedelta(seconds=get_settings().websocket_connection_ttl_seconds)
    connections.save_connection(
        connection_id, caller.user_id, utc_now(), lifetime, caller.expires_at
    )
    logger.info("websocket connected", user_id=caller.user_id, connection_id=connection_id)
    return caller


def close_connection(connection_id: str) -> None:
    _known.forget(connection_id)
    connections.delete_connection(connection_id)
    logger.info("websocket disconnected", connection_id=connection_id)


def signed_in_user(connection_id: str) -> str:
    """The user who opened the connection, while the token it was opened with is valid.

    Every client frame asks this first. ``TokenExpired`` once the token's ``exp`` has passed
    (the client reconnects with a fresh token); ``NotAuthenticated`` for a connection that is
    unknown or past API Gateway's 2 h. A connection's user and token never change and API
    Gateway only delivers frames from connections it holds open, so a warm Lambda remembers
    them instead of reading them for every frame.
    """
    opened = _known.get(connection_id)
    if opened is None:
        opened = connections.opened_connection(connection_id)
        if opened is None:
            raise NotAuthenticated("this connection is not signed in any more; reconnect")
        _known.remember(connection_id, opened)
    now = utc_now()
    if now >= opened.token_expires_at:
        raise TokenExpired("the token this connection was opened with has expired; reconnect")
    if now >= opened.expires_at:
        raise NotAuthenticated("this connection is not signed in any more; reconnect")
    return opened.user_id


# A few hundred bytes each; a Lambda rarely sees more than a few thousand connections.
_known: BoundedMemo[str, OpenedConnection] = BoundedMemo(capacity=10_000)
