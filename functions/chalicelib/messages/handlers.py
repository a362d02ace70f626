"""What direct messages do with a client frame on the WebSocket (``app.py`` hands them the
``$default`` frames through ``websocket/handlers.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.messages import frames
    from chalicelib.websocket.push import FramePusher
else:
    frames = lazy_module("chalicelib.messages.frames")


def handle_frame(connection_id: str, body: str | None, pusher: FramePusher) -> None:
    """``send`` and ``read`` frames (``messages/frames.py``); never raises."""
    frames.handle_frame(connection_id, body, pusher)
