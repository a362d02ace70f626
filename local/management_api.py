"""API Gateway's ``@connections`` management API, served by the local WebSocket gateway.

The backend answers clients through it: ``app.websocket_api.send`` is boto3's
``apigatewaymanagementapi`` client, aimed by Chalice at
``https://{apiId}.execute-api.{region}.amazonaws.com/{stage}``. `route_management_api` brings
those calls to the gateway's port, where `add_routes` serves ``POST``, ``GET`` and ``DELETE
/{stage}/@connections/{connection_id}`` as AWS answers them (410 ``GoneException`` for a
connection that is gone, 413 ``PayloadTooLargeException`` above 128 KB).
"""

from __future__ import annotations

import functools
import logging
import re
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from local import websocket_events as events

if TYPE_CHECKING:
    from local.websocket_gateway import WebSocketGateway

log = logging.getLogger("local_stack")

MESSAGE_LIMIT_BYTES = 128 * 1024
# The hosts `WebsocketAPI.configure_from_api_id` builds: {api_id}.execute-api.{region}.amazonaws.com
_EXECUTE_API_HOST = re.compile(r"[^.]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?", re.I)


def add_routes(web_app: web.Application, gateway: WebSocketGateway) -> None:
    path = f"/{gateway.stage}/@connections/{{connection_id}}"
    web_app.router.add_post(path, functools.partial(_post_to_connection, gateway))
    web_app.router.add_get(path, functools.partial(_get_connection, gateway))
    web_app.router.add_delete(path, functools.partial(_delete_connection, gateway))


async def _post_to_connection(gateway: WebSocketGateway, request: web.Request) -> web.Response:
    connection_id = request.match_info["connection_id"]
    # Refused before it is read when the length says so; the application's cap (4 times the
    # limit) guards only against bodies without one.
    if (request.content_length or 0) > MESSAGE_LIMIT_BYTES:
        return error_response(413, "PayloadTooLargeException", "Message too long")
    data = await request.read()
    if len(data) > MESSAGE_LIMIT_BYTES:
        return error_response(413, "PayloadTooLargeException", "Message too long")
    connection = gateway.connections.get(connection_id)
    if connection is None:
        return _gone(connection_id)
    try:
        # API Gateway relays posted data as a text frame; bytes that are not UTF-8 can only
        # travel as a binary one.
        try:
            await connection.socket.send_str(data.decode("utf-8"))
        except UnicodeDecodeError:
            await connection.socket.send_bytes(data)
    except (ConnectionError, RuntimeError):
        return _gone(connection_id)
    connection.mark_active()
    return web.Response(status=200, headers=_request_id_header())


async def _get_connection(gateway: WebSocketGateway, request: web.Request) -> web.Response:
    connection = gateway.connections.get(request.match_info["connection_id"])
    if connection is None:
        return _gone(request.match_info["connection_id"])
    body = {
        "connectedAt": events.iso8601(connection.facts.connected_at_ms),
        "identity": connection.facts.identity(),
        "lastActiveAt": events.iso8601(connection.last_active_at_ms),
    }
    return json_response(200, body)


async def _delete_connection(gateway: WebSocketGateway, request: web.Request) -> web.Response:
    connection = gateway.connections.get(request.match_info["connection_id"])
    if connection is None:
        return _gone(request.match_info["connection_id"])
    log.info(
        "websocket closing", extra={"connection_id": connection.connection_id, "cause": "delete"}
    )
    # 204 at once, as on AWS: the close handshake and $disconnect follow asynchronously.
    gateway.close_connection(connection, code=1000, reason="")
    return web.Response(status=204, headers=_request_id_header())


def _request_id_header() -> dict[str, str]:
    return {"x-amzn-RequestId": events.new_gateway_id()}


def json_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        body, status=status, headers={**_request_id_header(), **(headers or {})}
    )


def error_response(status: int, error_type: str, message: str | None) -> web.Response:
    # botocore's rest-json parser takes the error code from x-amzn-ErrorType, so this is what
    # makes `client.exceptions.GoneException` and friends raise.
    return json_response(status, {"message": message}, {"x-amzn-ErrorType": error_type})


def _gone(connection_id: str) -> web.Response:
    log.info("websocket connection gone", extra={"connection_id": connection_id})
    return error_response(410, "GoneException", None)


class _ManagementApiRoute:
    """A botocore ``before-send`` hook that points ``@connections`` calls at a local gateway.

    One per boto3 session, registered once and retargeted when another gateway is routed:
    clients copy the session's handlers when they are created (Chalice caches its client), so
    a client made earlier still reaches the gateway routed last.
    """

    def __init__(self) -> None:
        self.gateway: WebSocketGateway | None = None

    def __call__(self, request: Any, **kwargs: Any) -> None:
        gateway = self.gateway
        if gateway is None or not gateway.listening:
            return
        url = urlsplit(request.url)
        if _EXECUTE_API_HOST.fullmatch(url.hostname or "") and "/@connections/" in url.path:
            netloc = f"{gateway.host}:{gateway.port}"
            request.url = urlunsplit(("http", netloc, url.path, url.query, ""))


_routes_by_emitter: weakref.WeakKeyDictionary[Any, _ManagementApiRoute] = (
    weakref.WeakKeyDictionary()
)


def route_management_api(session: Any, gateway: WebSocketGateway) -> None:
    """Send a boto3 session's (for the app, ``app.websocket_api.session``)
    ``apigatewaymanagementapi`` calls to a local gateway.

    Chalice builds the endpoint from each event and passes it to ``session.client(...,
    endpoint_url=...)``, so no environment variable can redirect it; this rewrites the URL
    just before the request leaves. Apply it before the session creates its first
    ``apigatewaymanagementapi`` client: clients copy the session's hooks at creation.
    """
    emitter = session.events
    route = _routes_by_emitter.get(emitter)
    if route is None:
        route = _routes_by_emitter[emitter] = _ManagementApiRoute()
        emitter.register("before-send.apigatewaymanagementapi", route)
    route.gateway = gateway
