"""Pushing frames to WebSocket clients: what other features import of this package.

A feature builds its frame (a JSON object, as its schema's ``model_dump(mode="json")`` renders
it) and hands it to the ``FramePusher`` that ``frame_pusher`` resolves; how frames reach API
Gateway, and which connections a user has open, stay inside this package (``sender.py``,
``repository.py``). Delivery is best effort: what is pushed is stored first by its feature,
and the stored list is what a client reads back, so a failed push is logged, never raised.

Light at import (``typing`` and ``chalicelib.core`` only), since route and handler modules
import it at a cold start: the sender and the connections table load on the first push.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.core.config import get_settings
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalice.app import WebsocketAPI

    from chalicelib.websocket import sender
else:
    sender = lazy_module("chalicelib.websocket.sender")


class FramePusher(Protocol):
    """Sends JSON frames to open WebSocket connections: to one, or to all of a user's."""

    def push_frame(
        self, user_id: str, frame: dict[str, Any], skip_connection: str | None = None
    ) -> None:
        """Send ``frame`` to each open connection of ``user_id`` except ``skip_connection``;
        never raises for a connection that is gone or failing."""
        ...

    def send_frame(self, connection_id: str, frame: dict[str, Any]) -> bool:
        """Send ``frame`` to one connection; False when it could not be sent."""
        ...

    def close(self, connection_id: str) -> None:
        """Close one connection from the server's side; never raises."""
        ...


class NoLivePush:
    """The pusher where no WebSocket API is configured: clients read the lists instead."""

    def push_frame(
        self, user_id: str, frame: dict[str, Any], skip_connection: str | None = None
    ) -> None:
        return None

    def send_frame(self, connection_id: str, frame: dict[str, Any]) -> bool:
        return False

    def close(self, connection_id: str) -> None:
        return None


def frame_pusher(websocket_api: WebsocketAPI, configured_by_event: bool = False) -> FramePusher:
    """The one place a pusher is made (tests swap this function for a fake sender's).

    ``websocket_api`` is the app's Chalice ``WebsocketAPI``. A WebSocket event configures it
    (Chalice does, from the event: answers go back through the API the frame came in on);
    a REST request or a stream record has none, so the API named in the settings is used,
    and without one nothing is pushed.
    """
    if not configured_by_event:
        settings = get_settings()
        if not (settings.websocket_api_id and settings.websocket_stage):
            return NoLivePush()
        websocket_api.configure_from_api_id(settings.websocket_api_id, settings.websocket_stage)
    return sender.WebSocketPusher(websocket_api)
