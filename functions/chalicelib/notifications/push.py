"""Live delivery of notifications: a port, and its adapter for API Gateway WebSockets.

Delivery is best effort. A notification is stored before it is pushed, and the stored list
is what a client reads back, so a push that fails is logged and never fails its record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from chalice import WebsocketDisconnectedError

from chalicelib.connections import repository as connections
from chalicelib.core.clock import utc_now
from chalicelib.core.observability import logger


class NotificationPusher(Protocol):
    """Hands a stored notification to its recipient's open clients, if any."""

    def push(self, recipient_id: str, notification: dict[str, Any]) -> None:
        """Deliver ``notification`` (as ``GET /notifications`` renders it); never raises for
        a recipient who is gone or offline."""
        ...


class WebsocketSender(Protocol):
    """What the adapter needs of Chalice's ``WebsocketAPI``: send, or raise
    ``WebsocketDisconnectedError`` for a connection API Gateway no longer has."""

    def send(self, connection_id: str, message: str) -> None: ...


class WebSocketPusher:
    """Sends ``{"type": "notification", "notification": {...}}`` to each open connection of
    the recipient, and forgets connections that API Gateway reports gone (as Chalice's
    WebSocket tutorial's ``Sender`` does), so later pushes skip them.

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

    def push(self, recipient_id: str, notification: dict[str, Any]) -> None:
        message = json.dumps(
            {"type": "notification", "notification": notification}, separators=(",", ":")
        )
        for connection_id in self._open_connections(recipient_id, utc_now()):
            try:
                self._sender.send(connection_id, message)
            except WebsocketDisconnectedError:
                logger.info("forgot a closed connection", connection_id=connection_id)
                self._forget_connection(connection_id)
            except Exception:
                # One unreachable connection must not keep the others from their push.
                logger.exception("notification push failed", connection_id=connection_id)


class NoLivePush:
    """The pusher where no WebSocket API is configured: clients read the list instead."""

    def push(self, recipient_id: str, notification: dict[str, Any]) -> None:
        return None
