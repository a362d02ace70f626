"""API Gateway WebSocket handlers: $connect, $disconnect and $default (client frames).

``app.py`` registers these on the app itself: Chalice hands WebSocket handlers registered on a
Blueprint to Lambda unwrapped (a Blueprint has no ``websocket_api``), so they would be called
with ``(event, context)`` and fail.
"""

from chalice import Response
from chalice.app import WebsocketEvent

from chalicelib.api.errors import error_response
from chalicelib.core.errors import DomainError
from chalicelib.core.lazy import lazy_module
from chalicelib.messages.routes import message_pusher

service = lazy_module("chalicelib.connections.service")
frames = lazy_module("chalicelib.messages.frames")


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


def message(event: WebsocketEvent) -> None:
    # Chalice has configured the app's websocket_api from this event: answers go back
    # through the API the frame came in on.
    body = event.to_dict().get("body")
    frames.handle_frame(event.connection_id, body, message_pusher(configured_by_event=True))
