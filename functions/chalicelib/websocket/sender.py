"""The sender: frames out to API Gateway's management API, over the connections table.

``push.py`` is the port features use and makes this adapter; only it imports this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from chalice import WebsocketDisconnectedError

from chalicelib.core.clock import utc_now
from chalicelib.core.observability import logger
from chalicelib.websocket import repository as connections


class WebsocketSender(Protocol):
    """What the adapter needs of Chalice's ``WebsocketAPI``: send and close, or raise
    ``WebsocketDisconnectedError`` for a connection API Gateway no longer has."""

    def send(self, connection_id: str, message: str) -> None: ...

    def close(self, connection_id: str) -> None: ...


class WebSocketPusher:
    """Sends frames to one connection or to each open connection of a user, and forgets
    connections that API Gateway reports gone (as Chalice's WebSocket tutorial's ``Sender``
    does), so later pushes skip them. A ``FramePusher`` (``push.py``).

    Parameters
    ----------
    sender:
        The app's ``websocket_api``, configured with the WebSocket API's endpoint.
    open_connections:
        A user's open connection ids; the connections table by default.
    forget_connection:
        Drops one connection id; the connections table by default.
    """

    def __init__(
        self,
        sender: WebsocketSender,
        open_connections: Callable[[str, datetime], list[str]] = connections.connections_of,
        forget_connection: Callable[[str], None] = connections.delete_connection,
    ) -> None:
        self._sender = sender
        self._open_connections = open_connections
        self._forget_connection = forget_connection

    def push_frame(
        self, user_id: str, frame: dict[str, Any], skip_connection: str | None = None
    ) -> None:
        """Send ``frame`` to each open connection of ``user_id`` but ``skip_connection``."""
        for connection_id in self._open_connections(user_id, utc_now()):
            if connection_id != skip_connection:
                self.send_frame(connection_id, frame)

    def send_frame(self, connection_id: str, frame: dict[str, Any]) -> bool:
        """Send ``frame`` to one connection; False (never raises) when it could not be sent.
        A connection API Gateway reports gone is forgotten, that one id only."""
        message = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
        try:
            self._sender.send(connection_id, message)
            return True
        except WebsocketDisconnectedError:
            logger.info("forgot a closed connection", connection_id=connection_id)
            try:
                self._forget_connection(connection_id)
            except Exception:
                logger.exception(
                    "forgetting a closed connection failed", connection_id=connection_id
                )
        except Exception:
            # One unreachable connection must not keep the others from their push.
            logger.exception("push failed", connection_id=connection_id)
        return False

    def close(self, connection_id: str) -> None:
        """Close one connection (the management API's DELETE); API Gateway then sends its
        ``$disconnect``. One already gone is done; a failure is logged, never raised."""
        try:
            self._sender.close(connection_id)
        except WebsocketDisconnectedError:
            logger.info("closing a connection already gone", connection_id=connection_id)
        except Exception:
            logger.exception("closing a connection failed", connection_id=connection_id)
