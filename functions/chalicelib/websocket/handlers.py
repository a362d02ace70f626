"""API Gateway WebSocket handlers: $connect, $disconnect and $default (client frames).

``app.py`` registers these on the app itself: Chalice hands WebSocket handlers registered on a
Blueprint to Lambda unwrapped (a Blueprint has no ``websocket_api``), so they would be called
with ``(event, context)`` and fail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chalice import Response
from chalice.app import WebsocketAPI, WebsocketEvent

from chalicelib.api.errors import error_response
from chalicelib.core.errors import DomainError
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.websocket import push, service
    from chalicelib.websocket.push import FramePusher
else:
    push = lazy_module("chalicelib.websocket.push")
    service = lazy_module("chalicelib.websocket.service")

# What a feature does with one client frame: ``(connection_id, body, pusher)``, answering on
# the connection through the pusher; never raises.
type FrameHandler = Callable[[str, str | None, FramePusher], None]


def connect(event: WebsocketEvent) -> Response:
    query = event.to_dict().get("queryStringParameters") or {}
    try:
        service.open_connection(event.connection_id, query.get("token"))
    except DomainError as error:
        # A non-2xx answer to $connect makes API Gateway refuse the handshake.
        return error_response(error)
    return Response(body="", status_code=200)


def disconnect(event: WebsocketEvent) -> None:
    service.close_connection(event.connection_id)


def frames_to(
    handle_frame: FrameHandler, websocket_api: WebsocketAPI
) -> Callable[[WebsocketEvent], None]:
    """The ``$default`` handler: each client frame goes to ``handle_frame``.

    ``app.py`` names the feature that reads frames (direct messages), so this package never
    imports it: messages push through this package, and an import back would be a cycle.
    """

    def message(event: WebsocketEvent) -> None:
        # Chalice has configured the app's websocket_api from this event: answers go back
        # through the API the frame came in on.
        body = event.to_dict().get("body")
        handle_frame(
            event.connection_id, body, push.frame_pusher(websocket_api, configured_by_event=True)
        )

    return message
