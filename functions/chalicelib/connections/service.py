"""Opening and closing WebSocket connections, and knowing who is on one."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.auth.tokens import Caller, token_verifier
from chalicelib.connections import repository as connections
from chalicelib.connections.domain import OpenedConnection
from chalicelib.core.clock import utc_now
from chalicelib.core.config import get_settings
from chalicelib.core.errors import NotAuthenticated
from chalicelib.core.memo import BoundedMemo
from chalicelib.core.observability import logger


def open_connection(connection_id: str, token: str | None) -> Caller:
    """Verify the token from ``?token=`` and remember the connection under its user.

    API Gateway cannot run a Cognito authorizer on ``$connect`` for Chalice, so the handler
    refuses here.
    """
    if not token:
        raise NotAuthenticated("connect with ?token=<access token>")
    caller = token_verifier().verify(token)
    lifetime = timedelta(seconds=get_settings().websocket_connection_ttl_seconds)
    connections.save_connection(connection_id, caller.user_id, utc_now(), lifetime)
    logger.info("websocket connected", user_id=caller.user_id, connection_id=connection_id)
    return caller


def close_connection(connection_id: str) -> None:
    _known.forget(connection_id)
    connections.delete_connection(connection_id)
    logger.info("websocket disconnected", connection_id=connection_id)


def user_on_connection(connection_id: str) -> str | None:
    """The user who opened the connection; None when it is unknown or past its 2 h.

    Every client frame asks this. A connection's user never changes and API Gateway only
    delivers frames from connections it holds open, so a warm Lambda remembers the answer
    until the connection's expiry instead of reading it for every frame.
    """
    opened = _known.get(connection_id)
    if opened is None:
        opened = connections.opened_connection(connection_id)
        if opened is None:
            return None
        _known.remember(connection_id, opened)
    return opened.user_id if utc_now() < opened.expires_at else None


# A few hundred bytes each; a Lambda rarely sees more than a few thousand connections.
_known: BoundedMemo[str, OpenedConnection] = BoundedMemo(capacity=10_000)
