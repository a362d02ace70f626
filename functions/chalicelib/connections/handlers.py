"""API Gateway WebSocket handlers: $connect and $disconnect."""

from chalice import Blueprint, Response
from chalice.app import WebsocketEvent

from chalicelib.api.errors import error_response
from chalicelib.connections import service
from chalicelib.core.errors import DomainError

connections_ws = Blueprint(__name__)


@connections_ws.on_ws_connect()
def connect(event: WebsocketEvent) -> Response:
    query = event.to_dict().get("queryStringParameters") or {}
    try:
        service.open_connection(event.connection_id, query.get("token"))
    except DomainError as error:
        # A non-2xx answer to $connect makes API Gateway refuse the handshake.
        return error_response(error)
    return Response(body="", status_code=200)


@connections_ws.on_ws_disconnect()
def disconnect(event: WebsocketEvent) -> None:
    service.close_connection(event.connection_id)
