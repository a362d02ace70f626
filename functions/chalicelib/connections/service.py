"""Opening and closing WebSocket connections."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.auth.tokens import Caller, token_verifier
from chalicelib.connections import repository as connections
from chalicelib.core.clock import utc_now
from chalicelib.core.config import get_settings
from chalicelib.core.errors import NotAuthenticated
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
    connections.delete_connection(connection_id)
    logger.info("websocket disconnected", connection_id=connection_id)
