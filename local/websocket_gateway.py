"""A local stand-in for an API Gateway WebSocket API in front of the Chalice app.

On AWS, API Gateway holds the client's WebSocket and turns its life into Lambda events:
`$connect` while the upgrade is pending (a non-2xx answer refuses it), `$default` per client
message, `$disconnect` once the connection is gone. The backend answers through the
`@connections` management API, which is what `app.websocket_api.send` calls with boto3. This
module does both on one local port, calling the handlers Chalice registers
(`app.handler_map[config.name]`) with the events AWS would send.

Limits held as on AWS (developer guide, "Quotas for configuring and running a WebSocket API"):

- A client message above 32 KB closes the connection with 1009. AWS caps frames at 32 KB and
  messages at 128 KB, so it would accept a 100 KB message split into 32 KB fragments. aiohttp
  limits whole messages and cannot see frame boundaries, so locally 32 KB is the cap for the
  message too. Browsers and the usual mobile clients send each message as one frame, for which
  this is exactly AWS's behaviour; the stricter case fails locally rather than in production.
- A management API post above 128 KB answers 413 (`PayloadTooLargeException`).
- A binary client frame closes the connection with 1003: AWS WebSocket APIs do not accept them.
  `accept_binary_frames=True` delivers them base64-encoded instead, for apps that want it.
- 10 minutes without a message in either direction close the connection with 1001 (ping
  frames do not count here), as does reaching 2 hours. Both are configurable so tests can wait.

Close codes and reasons of server-side closes are this module's choice; AWS documents only the
1009 and 1003 cases.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import re
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import WSCloseCode, WSMsgType, web

from local import websocket_events as events
from local.lambda_runtime import invoke

log = logging.getLogger("local_stack")

FRAME_LIMIT_BYTES = 32 * 1024
MESSAGE_LIMIT_BYTES = 128 * 1024
IDLE_TIMEOUT_SECONDS = 10 * 60
MAX_CONNECTION_SECONDS = 2 * 60 * 60


@dataclass(frozen=True)
class CloseStatus:
    """A WebSocket close code and reason, as `$disconnect` reports them."""

    code: int
    reason: str


GOING_AWAY = CloseStatus(WSCloseCode.GOING_AWAY, "Going away")
CLOSED_BY_BACKEND = CloseStatus(WSCloseCode.OK, "")
BINARY_REFUSED = CloseStatus(WSCloseCode.UNSUPPORTED_DATA, "Binary frames are not supported")
MESSAGE_TOO_BIG = CloseStatus(WSCloseCode.MESSAGE_TOO_BIG, "Message too big")
NO_STATUS = CloseStatus(1005, "Client-side close frame status not set")
ABNORMAL = CloseStatus(WSCloseCode.ABNORMAL_CLOSURE, "Connection closed abnormally")

# The hosts `WebsocketAPI.configure_from_api_id` builds: {api_id}.execute-api.{region}.amazonaws.com
_EXECUTE_API_HOST = re.compile(r"[^.]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?", re.I)


@dataclass(eq=False)
class _ClientConnection:
    """One connected client: its socket, its facts for events, and its ordered handler queue."""

    facts: events.ConnectionFacts
    socket: web.WebSocketResponse
    last_active_at_ms: int
    last_active_monotonic: float
    connected_monotonic: float
    # Handler invocations of one connection run one at a time, in arrival order.
    pending: asyncio.Queue[tuple[str, dict[str, Any]] | None] = field(default_factory=asyncio.Queue)
    server_close: CloseStatus | None = None
    client_close: CloseStatus | None = None
    closing_task: asyncio.Task[bool] | None = None

    @property
    def connection_id(self) -> str:
        return self.facts.connection_id

    def mark_active(self) -> None:
        self.last_active_at_ms = events.epoch_millis()
        self.last_active_monotonic = time.monotonic()

    def disconnect_status(self) -> CloseStatus:
        return self.server_close or self.client_close or ABNORMAL


class _ConnectRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class WebSocketGateway:
    """API Gateway's WebSocket API for a Chalice app, served locally with aiohttp.

    Clients connect to `url` (any path; the query string reaches `$connect`). The management
    API is served on the same port under `/{stage}/@connections/{connection_id}`; boto3 calls
    reach it once `route_management_api` has been applied to the session that sends them.

    Parameters
    ----------
    app:
        The Chalice app whose `on_ws_connect`, `on_ws_message` and `on_ws_disconnect`
        handlers are invoked.
    host, port:
        Where to listen; port 0 picks a free one (see `port` once started).
    stage, api_id, region:
        What events report as `stage` and `apiId`, and what the domain name is built from.
        Chalice derives its management endpoint from `apiId`, `stage` and the region.
    idle_timeout_seconds, max_connection_seconds:
        API Gateway's 10-minute idle timeout and 2-hour connection limit.
    frame_limit_bytes, message_limit_bytes:
        Largest client message accepted, and largest management API post.
    accept_binary_frames:
        Deliver binary client frames base64-encoded instead of closing with 1003 as AWS does.
    handler_threads:
        Threads that run handlers; a slow handler holds one and stalls only its connection.
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 8001,
        stage: str = "local",
        api_id: str = "localws",
        region: str = "us-east-1",
        idle_timeout_seconds: float = IDLE_TIMEOUT_SECONDS,
        max_connection_seconds: float = MAX_CONNECTION_SECONDS,
        frame_limit_bytes: int = FRAME_LIMIT_BYTES,
        message_limit_bytes: int = MESSAGE_LIMIT_BYTES,
        accept_binary_frames: bool = False,
        handler_threads: int = 16,
        stop_timeout_seconds: float = 10.0,
    ) -> None:
        self.app = app
        self.host = host
        self.stage = stage
        self.api_id = api_id
        self.region = region
        self.idle_timeout_seconds = idle_timeout_seconds
        self.max_connection_seconds = max_connection_seconds
        self.frame_limit_bytes = frame_limit_bytes
        self.message_limit_bytes = message_limit_bytes
        self.accept_binary_frames = accept_binary_frames
        self.stop_timeout_seconds = stop_timeout_seconds
        self._requested_port = port
        self._handler_threads = handler_threads
        self._bound_port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._executor: ThreadPoolExecutor | None = None
        # Touched only on the gateway's event loop, so no lock.
        self._connections: dict[str, _ClientConnection] = {}
        self._client_handlers: set[asyncio.Task[Any]] = set()
        self._stopping = False

    @property
    def port(self) -> int:
        if self._bound_port is None:
            raise RuntimeError("the websocket gateway is not started")
        return self._bound_port

    @property
    def url(self) -> str:
        """Where clients connect: `ws://host:port`."""
        return f"ws://{self.host}:{self.port}"

    @property
    def management_endpoint_url(self) -> str:
        """The local `@connections` endpoint, for a boto3 client made by hand."""
        return f"http://{self.host}:{self.port}/{self.stage}"

    @property
    def domain_name(self) -> str:
        """The API's domain name as AWS would give it, reported as `domainName` and `Host`."""
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"

    def start(self) -> WebSocketGateway:
        """Listen on the gateway's own event loop, in a daemon thread; return once listening."""
        if self._thread is not None:
            raise RuntimeError("the websocket gateway is already started")
        self._stopping = False
        self._executor = ThreadPoolExecutor(
            max_workers=self._handler_threads, thread_name_prefix="websocket-handler"
        )
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop,), name="websocket-gateway", daemon=True
        )
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._listen(), loop).result(timeout=10)
        except BaseException:
            self._halt_loop()
            raise
        log.info(
            "websocket gateway listening",
            extra={"url": self.url, "stage": self.stage, "api_id": self.api_id},
        )
        return self

    def stop(self) -> None:
        """Close every client connection (each gets its `$disconnect`), then stop listening."""
        if self._loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shut_down(), self._loop).result(
                timeout=self.stop_timeout_seconds + 5
            )
        finally:
            self._halt_loop()
        log.info("websocket gateway stopped", extra={"api_id": self.api_id})

    def route_management_api(self, session: Any) -> None:
        """Send a boto3 session's `apigatewaymanagementapi` calls to this gateway.

        See the module-level `route_management_api`.
        """
        route_management_api(session, self)

    def __enter__(self) -> WebSocketGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the event loop and its lifetime -------------------------------------------------

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            # Only work that outlived the stop timeout is left; cancel it as asyncio.run does.
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _halt_loop(self) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if self._executor is not None:
            # Handlers still running past the stop timeout are abandoned, not awaited.
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._loop = None
        self._thread = None
        self._executor = None
        self._runner = None
        self._bound_port = None

    async def _listen(self) -> None:
        # Bodies above the message limit are refused before they are read (see the POST
        # route); the application-wide cap only guards against bodies without a length.
        web_app = web.Application(client_max_size=4 * self.message_limit_bytes)
        connections_path = f"/{self.stage}/@connections/{{connection_id}}"
        web_app.router.add_post(connections_path, self._post_to_connection)
        web_app.router.add_get(connections_path, self._get_connection)
        web_app.router.add_delete(connections_path, self._delete_connection)
        web_app.router.add_route("*", "/{path:.*}", self._serve_client)
        self._runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        self._bound_port = self._runner.addresses[0][1]

    async def _shut_down(self) -> None:
        self._stopping = True
        for connection in list(self._connections.values()):
            log.info("closing websocket for shutdown", extra=_log_fields(connection))
            self._close_connection(connection, GOING_AWAY)
        if self._client_handlers:
            _, still_running = await asyncio.wait(
                self._client_handlers, timeout=self.stop_timeout_seconds
            )
            if still_running:
                log.warning(
                    "websocket handlers still running at stop",
                    extra={"count": len(still_running)},
                )
        if self._runner is not None:
            await self._runner.cleanup()

    # -- client connections ------------------------------------------------------------------

    async def _serve_client(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            # What API Gateway answers plain HTTP requests to a WebSocket API.
            return _management_error(403, "ForbiddenException", "Forbidden")
        handler_task = asyncio.current_task()
        assert handler_task is not None
        self._client_handlers.add(handler_task)
        try:
            return await self._serve_upgrade(request)
        finally:
            self._client_handlers.discard(handler_task)

    async def _serve_upgrade(self, request: web.Request) -> web.StreamResponse:
        connected_at_ms = events.epoch_millis()
        facts = events.ConnectionFacts(
            api_id=self.api_id,
            stage=self.stage,
            domain_name=self.domain_name,
            connection_id=events.new_gateway_id(),
            connected_at_ms=connected_at_ms,
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent"),
        )
        try:
            subprotocol = await self._call_connect(facts, request)
        except _ConnectRefused as refusal:
            log.info(
                "websocket connect refused",
                extra={"connection_id": facts.connection_id, "status": refusal.status},
            )
            if refusal.status >= 500:
                return _json_response(refusal.status, {"message": "Internal server error"})
            return web.Response(status=refusal.status)
        socket = web.WebSocketResponse(
            protocols=(subprotocol,) if subprotocol else (),
            # aiohttp refuses a message whose size reaches max_msg_size, so one more byte
            # lets a message of exactly the limit through.
            max_msg_size=self.frame_limit_bytes + 1,
            # API Gateway negotiates no permessage-deflate, so sizes are what clients send.
            compress=False,
            autoping=True,
            timeout=5.0,
        )
        connection = _ClientConnection(
            facts=facts,
            socket=socket,
            last_active_at_ms=connected_at_ms,
            last_active_monotonic=time.monotonic(),
            connected_monotonic=time.monotonic(),
        )
        deliverer = asyncio.create_task(self._deliver_in_order(connection))
        # From here on $connect has succeeded, so whatever happens, $disconnect follows.
        try:
            if self._stopping:
                connection.server_close = GOING_AWAY
                return _json_response(503, {"message": "Service Unavailable"})
            try:
                await socket.prepare(request)
            except (ConnectionError, RuntimeError):
                connection.client_close = ABNORMAL  # the client left during the handshake
                raise
            self._connections[connection.connection_id] = connection
            log.info("websocket connected", extra=_log_fields(connection))
            limits = asyncio.create_task(self._enforce_time_limits(connection))
            try:
                await self._receive_until_closed(connection)
            finally:
                limits.cancel()
            return socket
        finally:
            await self._finish(connection, deliverer)

    async def _finish(self, connection: _ClientConnection, deliverer: asyncio.Task[None]) -> None:
        """Forget a connection and run its `$disconnect` after its pending messages."""
        self._connections.pop(connection.connection_id, None)
        if connection.closing_task is not None:
            await asyncio.gather(connection.closing_task, return_exceptions=True)
        status = connection.disconnect_status()
        disconnect = events.disconnect_event(connection.facts, int(status.code), status.reason)
        connection.pending.put_nowait((events.DISCONNECT_ROUTE, disconnect))
        connection.pending.put_nowait(None)
        await deliverer
        log.info(
            "websocket disconnected",
            extra={**_log_fields(connection), "code": int(status.code), "reason": status.reason},
        )

    async def _call_connect(
        self, facts: events.ConnectionFacts, request: web.Request
    ) -> str | None:
        """Run `$connect`; return the subprotocol it chose, or raise `_ConnectRefused`."""
        headers = events.connect_headers(
            facts, request.headers.items(), forwarded_port=self.port, forwarded_proto="http"
        )
        event = events.connect_event(facts, headers, request.query.items())
        try:
            result = await self._invoke(events.CONNECT_ROUTE, event)
        except Exception as exc:
            log.exception(
                "websocket connect handler failed", extra={"connection_id": facts.connection_id}
            )
            raise _ConnectRefused(500) from exc
        if not isinstance(result, dict):
            return None
        status = int(result.get("statusCode", 200))
        if not 200 <= status < 300:
            raise _ConnectRefused(status)
        # A $connect that picks a subprotocol answers with it, as API Gateway requires.
        response_headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        return response_headers.get("sec-websocket-protocol")

    async def _receive_until_closed(self, connection: _ClientConnection) -> None:
        socket = connection.socket
        while True:
            message = await socket.receive()
            if message.type is WSMsgType.TEXT:
                connection.mark_active()
                self._enqueue_message(connection, message.data, is_base64_encoded=False)
            elif message.type is WSMsgType.BINARY:
                if not self.accept_binary_frames:
                    connection.server_close = BINARY_REFUSED
                    self._connections.pop(connection.connection_id, None)
                    await socket.close(
                        code=BINARY_REFUSED.code, message=BINARY_REFUSED.reason.encode()
                    )
                    return
                connection.mark_active()
                body = base64.b64encode(message.data).decode("ascii")
                self._enqueue_message(connection, body, is_base64_encoded=True)
            elif message.type is WSMsgType.CLOSE:
                code = int(message.data or 0)
                connection.client_close = (
                    NO_STATUS
                    if code in (0, NO_STATUS.code)
                    else CloseStatus(code, message.extra or "")
                )
                return
            elif message.type is WSMsgType.ERROR:
                # aiohttp has already closed with the protocol error's code (1009 for size);
                # the socket's own close_code then holds whatever the client answered.
                error_code = getattr(message.data, "code", None)
                if connection.server_close is None and error_code is not None:
                    connection.server_close = (
                        MESSAGE_TOO_BIG
                        if error_code == WSCloseCode.MESSAGE_TOO_BIG
                        else CloseStatus(int(error_code), str(message.data))
                    )
                log.info(
                    "websocket protocol error",
                    extra={**_log_fields(connection), "error": str(message.data)},
                )
                return
            elif message.type in (WSMsgType.CLOSING, WSMsgType.CLOSED):
                return

    def _enqueue_message(
        self, connection: _ClientConnection, body: str, is_base64_encoded: bool
    ) -> None:
        event = events.message_event(connection.facts, body, is_base64_encoded)
        connection.pending.put_nowait((events.DEFAULT_ROUTE, event))

    async def _deliver_in_order(self, connection: _ClientConnection) -> None:
        while (item := await connection.pending.get()) is not None:
            route_key, event = item
            try:
                await self._invoke(route_key, event)
            except _NoRoute:
                # API Gateway's answer to a message no route takes.
                await self._send_error_frame(connection, "Forbidden", event)
            except Exception:
                log.exception(
                    "websocket handler failed",
                    extra={**_log_fields(connection), "route_key": route_key},
                )
                if route_key == events.DEFAULT_ROUTE:
                    await self._send_error_frame(connection, "Internal server error", event)

    async def _send_error_frame(
        self, connection: _ClientConnection, message: str, event: dict[str, Any]
    ) -> None:
        if connection.connection_id not in self._connections:
            return
        frame = {
            "message": message,
            "connectionId": connection.connection_id,
            "requestId": event["requestContext"]["requestId"],
        }
        try:
            await connection.socket.send_str(json.dumps(frame))
        except (ConnectionError, RuntimeError):
            pass  # the client left meanwhile; its $disconnect is on the way

    async def _invoke(self, route_key: str, event: dict[str, Any]) -> Any:
        """Call the app's handler for a route in a handler thread, as one Lambda invocation."""
        config = self.app.websocket_handlers.get(route_key)
        if config is None:
            if route_key == events.DEFAULT_ROUTE:
                raise _NoRoute(route_key)
            return None  # $connect and $disconnect are optional on AWS too
        handler = self.app.handler_map[config.name]
        function_name = f"{self.app.app_name}-{self.stage}-{config.name}"
        assert self._loop is not None
        describe = functools.partial(_describe_invocation, config.name, route_key)
        return await self._loop.run_in_executor(
            self._executor,
            functools.partial(invoke, handler, event, function_name, describe=describe),
        )

    async def _enforce_time_limits(self, connection: _ClientConnection) -> None:
        while True:
            idle_deadline = connection.last_active_monotonic + self.idle_timeout_seconds
            lifetime_deadline = connection.connected_monotonic + self.max_connection_seconds
            remaining = min(idle_deadline, lifetime_deadline) - time.monotonic()
            if remaining <= 0:
                cause = "idle timeout" if idle_deadline <= lifetime_deadline else "max duration"
                log.info("websocket closing", extra={**_log_fields(connection), "cause": cause})
                self._close_connection(connection, GOING_AWAY)
                return
            await asyncio.sleep(remaining)

    def _close_connection(self, connection: _ClientConnection, status: CloseStatus) -> None:
        """Start closing from the gateway's side; the connection's receive loop then ends."""
        self._connections.pop(connection.connection_id, None)
        if connection.closing_task is not None:
            return
        connection.server_close = status
        connection.closing_task = asyncio.create_task(
            connection.socket.close(code=status.code, message=status.reason.encode())
        )

    # -- the @connections management API ------------------------------------------------

    async def _post_to_connection(self, request: web.Request) -> web.StreamResponse:
        connection_id = request.match_info["connection_id"]
        if (request.content_length or 0) > self.message_limit_bytes:
            return _management_error(413, "PayloadTooLargeException", "Message too long")
        data = await request.read()
        if len(data) > self.message_limit_bytes:
            return _management_error(413, "PayloadTooLargeException", "Message too long")
        connection = self._connections.get(connection_id)
        if connection is None:
            return _gone(connection_id)
        try:
            # API Gateway relays posted data as a text frame; bytes that are not UTF-8 can
            # only travel as a binary one.
            try:
                await connection.socket.send_str(data.decode("utf-8"))
            except UnicodeDecodeError:
                await connection.socket.send_bytes(data)
        except (ConnectionError, RuntimeError):
            return _gone(connection_id)
        connection.mark_active()
        return web.Response(status=200, headers=_request_id_header())

    async def _get_connection(self, request: web.Request) -> web.StreamResponse:
        connection = self._connections.get(request.match_info["connection_id"])
        if connection is None:
            return _gone(request.match_info["connection_id"])
        facts = connection.facts
        return _json_response(
            200,
            {
                "connectedAt": events.iso8601(facts.connected_at_ms),
                "identity": facts.identity(),
                "lastActiveAt": events.iso8601(connection.last_active_at_ms),
            },
        )

    async def _delete_connection(self, request: web.Request) -> web.StreamResponse:
        connection = self._connections.get(request.match_info["connection_id"])
        if connection is None:
            return _gone(request.match_info["connection_id"])
        log.info("websocket closing", extra={**_log_fields(connection), "cause": "delete"})
        # 204 at once, as on AWS: the close handshake and $disconnect follow asynchronously.
        self._close_connection(connection, CLOSED_BY_BACKEND)
        return web.Response(status=204, headers=_request_id_header())


class _NoRoute(Exception):
    pass


def _describe_invocation(
    handler_name: str, route_key: str, result: Any, error: BaseException | None, ms: float
) -> str:
    """``websocket_message $default 200 4 ms``: one WebSocket event, as the console shows it."""
    if error is not None:
        outcome = f"failed ({type(error).__name__})"
    else:
        outcome = str(result.get("statusCode", 200)) if isinstance(result, dict) else "200"
    return f"{handler_name} {route_key} {outcome} {ms:.0f} ms"


def _log_fields(connection: _ClientConnection) -> dict[str, Any]:
    return {"connection_id": connection.connection_id, "source_ip": connection.facts.source_ip}


def _request_id_header() -> dict[str, str]:
    return {"x-amzn-RequestId": events.new_gateway_id()}


def _json_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        body, status=status, headers={**_request_id_header(), **(headers or {})}
    )


def _management_error(status: int, error_type: str, message: str | None) -> web.Response:
    # botocore's rest-json parser takes the error code from x-amzn-ErrorType, so this is
    # what makes `client.exceptions.GoneException` and friends raise.
    return _json_response(status, {"message": message}, {"x-amzn-ErrorType": error_type})


def _gone(connection_id: str) -> web.Response:
    log.info("websocket connection gone", extra={"connection_id": connection_id})
    return _management_error(410, "GoneException", None)


class _ManagementApiRoute:
    """A botocore `before-send` hook that points `@connections` calls at a local gateway.

    One per boto3 session, registered once and retargeted when another gateway is routed:
    clients copy the session's handlers when they are created (Chalice caches its client),
    so a client made earlier still reaches the gateway routed last.
    """

    def __init__(self) -> None:
        self.gateway: WebSocketGateway | None = None

    def __call__(self, request: Any, **kwargs: Any) -> None:
        gateway = self.gateway
        if gateway is None or gateway._bound_port is None:
            return
        url = urlsplit(request.url)
        if not _EXECUTE_API_HOST.fullmatch(url.hostname or "") or "/@connections/" not in url.path:
            return
        netloc = f"{gateway.host}:{gateway.port}"
        request.url = urlunsplit(("http", netloc, url.path, url.query, ""))


_routes_by_emitter: weakref.WeakKeyDictionary[Any, _ManagementApiRoute] = (
    weakref.WeakKeyDictionary()
)


def route_management_api(session: Any, gateway: WebSocketGateway) -> None:
    """Send a boto3 session's `apigatewaymanagementapi` calls to a local gateway.

    Chalice's `WebsocketAPI` builds `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`
    from each event and passes it to `session.client(..., endpoint_url=...)`, so no
    environment variable can redirect it. This rewrites the URL just before the request
    leaves, so the app's calls go through unchanged. Apply it before the session creates
    its first `apigatewaymanagementapi` client: clients copy the session's hooks at creation.

    Parameters
    ----------
    session:
        A `boto3.Session`; for the app, `app.websocket_api.session`.
    gateway:
        The gateway to send the calls to.
    """
    emitter = session.events
    route = _routes_by_emitter.get(emitter)
    if route is None:
        route = _ManagementApiRoute()
        emitter.register("before-send.apigatewaymanagementapi", route)
        _routes_by_emitter[emitter] = route
    route.gateway = gateway


__all__ = [
    "FRAME_LIMIT_BYTES",
    "IDLE_TIMEOUT_SECONDS",
    "MAX_CONNECTION_SECONDS",
    "MESSAGE_LIMIT_BYTES",
    "CloseStatus",
    "WebSocketGateway",
    "route_management_api",
]
