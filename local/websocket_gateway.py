"""A local stand-in for an API Gateway WebSocket API in front of the Chalice app.

On AWS, API Gateway holds the client's WebSocket and turns its life into Lambda events:
`$connect` while the upgrade is pending (a non-2xx answer refuses it), `$default` per client
message, `$disconnect` once the connection is gone. This module does that on one local port,
calling the handlers Chalice registers with the events AWS would send; the same port serves
the `@connections` management API the backend answers through (`local.management_api`).

Limits held as on AWS ("Quotas for configuring and running a WebSocket API"): a client
message above 32 KB closes the connection with 1009 (AWS caps frames at 32 KB and messages at
128 KB; aiohttp sees whole messages only, so locally 32 KB caps both, which is AWS's behaviour
for the single-frame messages browsers and mobile clients send); a binary frame closes it with
1003, as AWS WebSocket APIs take none; 10 minutes without a message either way (pings do not
count), or 2 hours in all, close it with 1001. Close codes and reasons of other server-side
closes are this module's choice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from local import management_api
from local import websocket_events as events
from local.lambda_runtime import invoke

log = logging.getLogger("local_stack")

FRAME_LIMIT_BYTES = 32 * 1024
IDLE_TIMEOUT_SECONDS = 10 * 60
MAX_CONNECTION_SECONDS = 2 * 60 * 60
_STOP_TIMEOUT_SECONDS = 10.0
_HANDLER_THREADS = 16  # a slow handler holds one and stalls only its own connection


@dataclass(frozen=True)
class CloseStatus:
    """A WebSocket close code and reason, as `$disconnect` reports them."""

    code: int
    reason: str


GOING_AWAY = CloseStatus(WSCloseCode.GOING_AWAY, "Going away")
BINARY_REFUSED = CloseStatus(WSCloseCode.UNSUPPORTED_DATA, "Binary frames are not supported")
MESSAGE_TOO_BIG = CloseStatus(WSCloseCode.MESSAGE_TOO_BIG, "Message too big")
NO_STATUS = CloseStatus(1005, "Client-side close frame status not set")
ABNORMAL = CloseStatus(WSCloseCode.ABNORMAL_CLOSURE, "Connection closed abnormally")


@dataclass(eq=False)
class ClientConnection:
    """One connected client: its socket, its facts for events, and its ordered handler queue."""

    facts: events.ConnectionFacts
    socket: web.WebSocketResponse
    last_active_at_ms: int
    last_active_monotonic: float = field(default_factory=time.monotonic)
    connected_monotonic: float = field(default_factory=time.monotonic)
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

    def log_fields(self, **more: Any) -> dict[str, Any]:
        return {"connection_id": self.connection_id, "source_ip": self.facts.source_ip, **more}


class _ConnectRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class WebSocketGateway:
    """API Gateway's WebSocket API for a Chalice app, served locally with aiohttp.

    Clients connect to `url` (any path; the query string reaches `$connect`). `stage`,
    `api_id` and `region` are what events report and what the API's domain name is built
    from, as Chalice derives its management endpoint from them. Port 0 picks a free port.
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
    ) -> None:
        self.app = app
        self.host = host
        self.stage = stage
        self.api_id = api_id
        self.region = region
        self.idle_timeout_seconds = idle_timeout_seconds
        self.max_connection_seconds = max_connection_seconds
        self._requested_port = port
        self._bound_port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._executor: ThreadPoolExecutor | None = None
        # Touched only on the gateway's event loop, so no lock.
        self.connections: dict[str, ClientConnection] = {}
        self._client_handlers: set[asyncio.Task[Any]] = set()
        self._stopping = False

    @property
    def listening(self) -> bool:
        return self._bound_port is not None

    @property
    def port(self) -> int:
        if self._bound_port is None:
            raise RuntimeError("the websocket gateway is not started")
        return self._bound_port

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

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
            _HANDLER_THREADS, thread_name_prefix="websocket-handler"
        )
        self._loop = loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop,), name="websocket-gateway", daemon=True
        )
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._listen(), loop).result(timeout=10)
        except BaseException:
            self._halt_loop()
            raise
        log.info("websocket gateway listening", extra={"url": self.url, "api_id": self.api_id})
        return self

    def stop(self) -> None:
        """Close every client connection (each gets its `$disconnect`), then stop listening."""
        if self._loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shut_down(), self._loop).result(
                timeout=_STOP_TIMEOUT_SECONDS + 5
            )
        finally:
            self._halt_loop()
        log.info("websocket gateway stopped", extra={"api_id": self.api_id})

    def route_management_api(self, session: Any) -> None:
        """Send a boto3 session's `apigatewaymanagementapi` calls to this gateway."""
        management_api.route_management_api(session, self)

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
        self._loop = self._thread = self._executor = self._runner = self._bound_port = None

    async def _listen(self) -> None:
        web_app = web.Application(client_max_size=4 * management_api.MESSAGE_LIMIT_BYTES)
        management_api.add_routes(web_app, self)
        web_app.router.add_route("*", "/{path:.*}", self._serve_client)
        self._runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self._requested_port).start()
        self._bound_port = self._runner.addresses[0][1]

    async def _shut_down(self) -> None:
        self._stopping = True
        for connection in list(self.connections.values()):
            log.info("closing websocket for shutdown", extra=connection.log_fields())
            self.close_connection(connection, GOING_AWAY.code, GOING_AWAY.reason)
        if self._client_handlers:
            _, running = await asyncio.wait(self._client_handlers, timeout=_STOP_TIMEOUT_SECONDS)
            if running:
                log.warning(
                    "websocket handlers still running at stop", extra={"count": len(running)}
                )
        if self._runner is not None:
            await self._runner.cleanup()

    # -- client connections ------------------------------------------------------------------

    async def _serve_client(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            # What API Gateway answers plain HTTP requests to a WebSocket API.
            return management_api.error_response(403, "ForbiddenException", "Forbidden")
        handler_task = asyncio.current_task()
        assert handler_task is not None
        self._client_handlers.add(handler_task)
        try:
            return await self._serve_upgrade(request)
        finally:
            self._client_handlers.discard(handler_task)

    async def _serve_upgrade(self, request: web.Request) -> web.StreamResponse:
        facts = events.ConnectionFacts(
            api_id=self.api_id,
            stage=self.stage,
            domain_name=self.domain_name,
            connection_id=events.new_gateway_id(),
            connected_at_ms=events.epoch_millis(),
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent"),
        )
        try:
            await self._call_connect(facts, request)
        except _ConnectRefused as refusal:
            log.info(
                "websocket connect refused",
                extra={"connection_id": facts.connection_id, "status": refusal.status},
            )
            if refusal.status >= 500:
                return management_api.json_response(
                    refusal.status, {"message": "Internal server error"}
                )
            return web.Response(status=refusal.status)
        socket = web.WebSocketResponse(
            # aiohttp refuses a message whose size reaches max_msg_size, so one more byte
            # lets a message of exactly the limit through.
            max_msg_size=FRAME_LIMIT_BYTES + 1,
            # API Gateway negotiates no permessage-deflate, so sizes are what clients send.
            compress=False,
            autoping=True,
            timeout=5.0,
        )
        connection = ClientConnection(facts, socket, last_active_at_ms=facts.connected_at_ms)
        deliverer = asyncio.create_task(self._deliver_in_order(connection))
        # From here on $connect has succeeded, so whatever happens, $disconnect follows.
        try:
            if self._stopping:
                connection.server_close = GOING_AWAY
                return management_api.json_response(503, {"message": "Service Unavailable"})
            try:
                await socket.prepare(request)
            except (ConnectionError, RuntimeError):
                connection.client_close = ABNORMAL  # the client left during the handshake
                raise
            self.connections[connection.connection_id] = connection
            log.info("websocket connected", extra=connection.log_fields())
            limits = asyncio.create_task(self._enforce_time_limits(connection))
            try:
                await self._receive_until_closed(connection)
            finally:
                limits.cancel()
            return socket
        finally:
            await self._finish(connection, deliverer)

    async def _finish(self, connection: ClientConnection, deliverer: asyncio.Task[None]) -> None:
        """Forget a connection and run its `$disconnect` after its pending messages."""
        self.connections.pop(connection.connection_id, None)
        if connection.closing_task is not None:
            await asyncio.gather(connection.closing_task, return_exceptions=True)
        status = connection.server_close or connection.client_close or ABNORMAL
        disconnect = events.disconnect_event(connection.facts, int(status.code), status.reason)
        connection.pending.put_nowait((events.DISCONNECT_ROUTE, disconnect))
        connection.pending.put_nowait(None)
        await deliverer
        log.info(
            "websocket disconnected",
            extra=connection.log_fields(code=int(status.code), reason=status.reason),
        )

    async def _call_connect(self, facts: events.ConnectionFacts, request: web.Request) -> None:
        """Run `$connect`, or raise `_ConnectRefused`. (A `$connect` that picks a subprotocol
        would answer with it; the app picks none, so the gateway offers none.)"""
        event = events.connect_event(
            facts, request.headers.items(), request.query.items(), self.port
        )
        try:
            result = await self._invoke(events.CONNECT_ROUTE, event)
        except Exception as exc:
            log.exception(
                "websocket connect handler failed", extra={"connection_id": facts.connection_id}
            )
            raise _ConnectRefused(500) from exc
        status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 200
        if not 200 <= status < 300:
            raise _ConnectRefused(status)

    async def _receive_until_closed(self, connection: ClientConnection) -> None:
        socket = connection.socket
        while True:
            message = await socket.receive()
            if message.type is WSMsgType.TEXT:
                connection.mark_active()
                event = events.message_event(connection.facts, message.data)
                connection.pending.put_nowait((events.DEFAULT_ROUTE, event))
            elif message.type is WSMsgType.BINARY:
                connection.server_close = BINARY_REFUSED
                self.connections.pop(connection.connection_id, None)
                await socket.close(code=BINARY_REFUSED.code, message=BINARY_REFUSED.reason.encode())
                return
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
                    "websocket protocol error", extra=connection.log_fields(error=str(message.data))
                )
                return
            elif message.type in (WSMsgType.CLOSING, WSMsgType.CLOSED):
                return

    async def _deliver_in_order(self, connection: ClientConnection) -> None:
        while (item := await connection.pending.get()) is not None:
            route_key, event = item
            try:
                await self._invoke(route_key, event)
            except Exception:
                log.exception(
                    "websocket handler failed", extra=connection.log_fields(route_key=route_key)
                )
                if (
                    route_key == events.DEFAULT_ROUTE
                    and connection.connection_id in self.connections
                ):
                    # API Gateway's answer to the client when the $default integration failed.
                    frame = {
                        "message": "Internal server error",
                        "connectionId": connection.connection_id,
                        "requestId": event["requestContext"]["requestId"],
                    }
                    with contextlib.suppress(ConnectionError, RuntimeError):  # client gone
                        await connection.socket.send_str(json.dumps(frame))

    async def _invoke(self, route_key: str, event: dict[str, Any]) -> Any:
        """Call the app's handler for a route in a handler thread, as one Lambda invocation."""
        config = self.app.websocket_handlers.get(route_key)
        if config is None:  # the app has all three routes; $connect and $disconnect may go
            return None
        handler = self.app.handler_map[config.name]
        function_name = f"{self.app.app_name}-{self.stage}-{config.name}"
        describe = functools.partial(_describe_invocation, config.name, route_key)
        assert self._loop is not None
        return await self._loop.run_in_executor(
            self._executor,
            functools.partial(invoke, handler, event, function_name, describe=describe),
        )

    async def _enforce_time_limits(self, connection: ClientConnection) -> None:
        while True:
            idle_deadline = connection.last_active_monotonic + self.idle_timeout_seconds
            lifetime_deadline = connection.connected_monotonic + self.max_connection_seconds
            remaining = min(idle_deadline, lifetime_deadline) - time.monotonic()
            if remaining <= 0:
                cause = "idle timeout" if idle_deadline <= lifetime_deadline else "max duration"
                log.info("websocket closing", extra=connection.log_fields(cause=cause))
                self.close_connection(connection, GOING_AWAY.code, GOING_AWAY.reason)
                return
            await asyncio.sleep(remaining)

    def close_connection(self, connection: ClientConnection, code: int, reason: str) -> None:
        """Start closing from the gateway's side; the connection's receive loop then ends.
        Runs on the gateway's event loop."""
        self.connections.pop(connection.connection_id, None)
        if connection.closing_task is not None:
            return
        connection.server_close = CloseStatus(code, reason)
        connection.closing_task = asyncio.create_task(
            connection.socket.close(code=code, message=reason.encode())
        )


def _describe_invocation(
    handler_name: str, route_key: str, result: Any, error: BaseException | None, ms: float
) -> str:
    """``websocket_message $default 200 4 ms``: one WebSocket event, as the console shows it."""
    if error is not None:
        outcome = f"failed ({type(error).__name__})"
    else:
        outcome = str(result.get("statusCode", 200)) if isinstance(result, dict) else "200"
    return f"{handler_name} {route_key} {outcome} {ms:.0f} ms"
