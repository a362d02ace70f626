"""The local WebSocket gateway stands in for API Gateway in front of a Chalice app.

A small Chalice app defined here is driven by real `websockets` clients. Its handlers answer
through `app.websocket_api.send`, that is boto3's `apigatewaymanagementapi` client aimed at
`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, which the gateway's route
brings back to the local port.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import boto3
import pytest
from chalice import Chalice, Response, WebsocketDisconnectedError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from local.embedded_aws import EmbeddedAws
from local.websocket_gateway import WebSocketGateway

Event = dict[str, Any]

app = Chalice(app_name="websocket-gateway-test")
app.websocket_api.session = boto3.Session()


class InvocationLog:
    """Every event the test app's handlers received, in order, and a way to wait for more."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._changed = threading.Condition()

    def record(self, event: Event) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def clear(self) -> None:
        with self._changed:
            self._events.clear()

    def of(self, connection_id: str, route_key: str | None = None) -> list[Event]:
        with self._changed:
            return [
                event
                for event in self._events
                if event["requestContext"]["connectionId"] == connection_id
                and route_key in (None, event["requestContext"]["routeKey"])
            ]

    def connects_with_token(self, token: str) -> list[Event]:
        with self._changed:
            return [
                event
                for event in self._events
                if (event.get("queryStringParameters") or {}).get("token") == token
            ]

    def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        with self._changed:
            assert self._changed.wait_for(condition, timeout), "the handlers never got there"


invocations = InvocationLog()
blocked_handler_may_finish = threading.Event()


@app.on_ws_connect()
def remember_connection(event):  # type: ignore[no-untyped-def]
    invocations.record(event.to_dict())
    token = (event.to_dict().get("queryStringParameters") or {}).get("token")
    if token == "explode":
        raise RuntimeError("the connect handler failed")
    if token != "good":
        return Response(body="", status_code=401)
    return None


@app.on_ws_message()
def answer_message(event):  # type: ignore[no-untyped-def]
    invocations.record(event.to_dict())
    body = event.body
    if body == "whoami":
        reply = event.connection_id
    elif body.startswith("push-to:"):
        target = body.removeprefix("push-to:")
        try:
            app.websocket_api.send(target, f"pushed-by:{event.connection_id}")
            reply = "pushed"
        except WebsocketDisconnectedError as gone:
            reply = f"gone:{gone.connection_id}"
    elif body == "block":
        blocked_handler_may_finish.wait(timeout=5)
        reply = "unblocked"
    elif body == "fail":
        raise RuntimeError("the message handler failed")
    else:
        reply = f"echo:{body[:40]}"
    app.websocket_api.send(event.connection_id, reply)


@app.on_ws_disconnect()
def forget_connection(event):  # type: ignore[no-untyped-def]
    invocations.record(event.to_dict())


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws_environment() -> Iterator[EmbeddedAws]:
    """Region and credentials for boto3; the management API calls never reach moto."""
    saved = dict(os.environ)
    with EmbeddedAws() as aws:
        aws.export_environment()
        yield aws
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="module")
def shared_gateway(aws_environment: EmbeddedAws) -> Iterator[WebSocketGateway]:
    with WebSocketGateway(app, port=0) as gateway:
        yield gateway


@pytest.fixture
def gateway(shared_gateway: WebSocketGateway) -> WebSocketGateway:
    # A test with its own gateway routes the app's session there; take it back.
    shared_gateway.route_management_api(app.websocket_api.session)
    return shared_gateway


@pytest.fixture
def make_gateway(aws_environment: EmbeddedAws) -> Iterator[Callable[..., WebSocketGateway]]:
    """Gateways with their own limits, stopped after the test."""
    started: list[WebSocketGateway] = []

    def make(**options: Any) -> WebSocketGateway:
        gateway = WebSocketGateway(app, port=0, **options).start()
        gateway.route_management_api(app.websocket_api.session)
        started.append(gateway)
        return gateway

    yield make
    for gateway in started:
        gateway.stop()


@pytest.fixture(autouse=True)
def fresh_invocations() -> None:
    invocations.clear()
    blocked_handler_may_finish.clear()


def management_client(gateway: WebSocketGateway) -> Any:
    """A management API client aimed at AWS's URL, as Chalice makes it, routed to the gateway."""
    session = boto3.Session()
    gateway.route_management_api(session)
    return session.client(
        "apigatewaymanagementapi",
        endpoint_url=f"https://{gateway.api_id}.execute-api.{gateway.region}.amazonaws.com/{gateway.stage}",
    )


# -- client helpers ---------------------------------------------------------------------------


def run(scenario: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(scenario, timeout=15))


async def open_client(
    gateway: WebSocketGateway, query: str = "token=good", **options: Any
) -> ClientConnection:
    return await connect(f"{gateway.url}/chat?{query}", proxy=None, open_timeout=5, **options)


async def receive(client: ClientConnection) -> str | bytes:
    return await asyncio.wait_for(client.recv(), timeout=5)


async def connection_id_of(client: ClientConnection) -> str:
    await client.send("whoami")
    answer = await receive(client)
    assert isinstance(answer, str)
    return answer


async def wait_until(condition: Callable[[], bool]) -> None:
    await asyncio.to_thread(invocations.wait_until, condition)


async def wait_closed(client: ClientConnection) -> None:
    await asyncio.wait_for(client.wait_closed(), timeout=5)


# -- the handshake ----------------------------------------------------------------------------


def test_connect_refused_by_handler_fails_the_handshake_with_its_status(
    gateway: WebSocketGateway,
) -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refusal:
            await open_client(gateway, query="token=bad")
        assert refusal.value.response.status_code == 401

    run(scenario())

    [connect_event] = invocations.connects_with_token("bad")
    refused_id = connect_event["requestContext"]["connectionId"]
    client_api = management_client(gateway)
    with pytest.raises(client_api.exceptions.GoneException):
        client_api.get_connection(ConnectionId=refused_id)


def test_connect_handler_that_raises_fails_the_handshake_with_500(
    gateway: WebSocketGateway,
) -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refusal:
            await open_client(gateway, query="token=explode")
        assert refusal.value.response.status_code == 500

    run(scenario())


def test_accepted_client_gets_its_echo_through_the_management_api(
    gateway: WebSocketGateway,
) -> None:
    async def scenario() -> None:
        async with await open_client(gateway) as client:
            await client.send("hello")
            assert await receive(client) == "echo:hello"

    run(scenario())


# -- pushing between connections --------------------------------------------------------------


def test_push_from_one_client_reaches_the_other(gateway: WebSocketGateway) -> None:
    async def scenario() -> None:
        async with await open_client(gateway) as sender, await open_client(gateway) as receiver:
            sender_id = await connection_id_of(sender)
            receiver_id = await connection_id_of(receiver)
            assert sender_id != receiver_id

            await sender.send(f"push-to:{receiver_id}")

            assert await receive(receiver) == f"pushed-by:{sender_id}"
            assert await receive(sender) == "pushed"

    run(scenario())


def test_push_to_a_closed_connection_surfaces_as_websocket_disconnected_error(
    gateway: WebSocketGateway,
) -> None:
    async def scenario() -> None:
        async with await open_client(gateway) as departed:
            departed_id = await connection_id_of(departed)
        await wait_until(lambda: bool(invocations.of(departed_id, "$disconnect")))

        async with await open_client(gateway) as client:
            await client.send(f"push-to:{departed_id}")
            assert await receive(client) == f"gone:{departed_id}"

    run(scenario())


def test_management_api_answers_gone_for_unknown_connections(gateway: WebSocketGateway) -> None:
    client = management_client(gateway)

    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="bm90LWEtY29ubmVjdA=", Data=b"hello")
    with pytest.raises(client.exceptions.GoneException):
        client.get_connection(ConnectionId="bm90LWEtY29ubmVjdA=")
    with pytest.raises(client.exceptions.GoneException):
        client.delete_connection(ConnectionId="bm90LWEtY29ubmVjdA=")


def test_handler_failure_answers_the_client_with_internal_server_error(
    gateway: WebSocketGateway,
) -> None:
    async def scenario() -> None:
        async with await open_client(gateway) as client:
            connection_id = await connection_id_of(client)
            await client.send("fail")
            error = await receive(client)
            assert isinstance(error, str)
            assert '"message": "Internal server error"' in error
            assert connection_id in error
            # The connection stays open, as on AWS.
            await client.send("still there")
            assert await receive(client) == "echo:still there"

    run(scenario())


# -- disconnecting ------------------------------------------------------------------------------


def test_client_close_invokes_disconnect_exactly_once(
    make_gateway: Callable[..., WebSocketGateway],
) -> None:
    gateway = make_gateway()

    async def scenario() -> str:
        async with await open_client(gateway) as client:
            connection_id = await connection_id_of(client)
            await client.close(code=4000, reason="bye")
        await wait_until(lambda: bool(invocations.of(connection_id, "$disconnect")))
        return connection_id

    connection_id = run(scenario())
    gateway.stop()  # waits for every handler, so a second $disconnect would be in the log

    [disconnect] = invocations.of(connection_id, "$disconnect")
    assert disconnect["requestContext"]["disconnectStatusCode"] == 4000
    assert disconnect["requestContext"]["disconnectReason"] == "bye"


def test_delete_closes_the_connection_and_invokes_disconnect_exactly_once(
    make_gateway: Callable[..., WebSocketGateway],
) -> None:
    gateway = make_gateway()
    client_api = management_client(gateway)

    async def scenario() -> str:
        async with await open_client(gateway, user_agent_header="delete-test/1.0") as client:
            connection_id = await connection_id_of(client)
            info = await asyncio.to_thread(client_api.get_connection, ConnectionId=connection_id)
            assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "delete-test/1.0"}
            assert info["LastActiveAt"] >= info["ConnectedAt"]

            await asyncio.to_thread(client_api.delete_connection, ConnectionId=connection_id)

            await wait_closed(client)
            assert client.close_code == 1000
        await wait_until(lambda: bool(invocations.of(connection_id, "$disconnect")))
        return connection_id

    connection_id = run(scenario())
    with pytest.raises(client_api.exceptions.GoneException):
        client_api.post_to_connection(ConnectionId=connection_id, Data=b"too late")
    gateway.stop()

    assert len(invocations.of(connection_id, "$disconnect")) == 1


def test_stop_closes_open_connections_and_invokes_their_disconnect(
    make_gateway: Callable[..., WebSocketGateway],
) -> None:
    gateway = make_gateway()

    async def scenario() -> str:
        async with await open_client(gateway) as client:
            connection_id = await connection_id_of(client)
            await asyncio.to_thread(gateway.stop)
            await wait_closed(client)
            assert client.close_code == 1001
        return connection_id

    connection_id = run(scenario())

    [disconnect] = invocations.of(connection_id, "$disconnect")
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1001


# -- limits -------------------------------------------------------------------------------------


def test_idle_connection_is_closed_after_the_idle_timeout(
    make_gateway: Callable[..., WebSocketGateway],
) -> None:
    gateway = make_gateway(idle_timeout_seconds=1.0)

    async def scenario() -> None:
        async with await open_client(gateway) as client:
            connection_id = await connection_id_of(client)
            last_activity = time.monotonic()
            await wait_closed(client)
            assert time.monotonic() - last_activity >= 0.9
            assert client.close_code == 1001
        await wait_until(lambda: bool(invocations.of(connection_id, "$disconnect")))
        [disconnect] = invocations.of(connection_id, "$disconnect")
        assert disconnect["requestContext"]["disconnectStatusCode"] == 1001

    run(scenario())


def test_connection_is_closed_at_the_maximum_duration(
    make_gateway: Callable[..., WebSocketGateway],
) -> None:
    gateway = make_gateway(max_connection_seconds=1.0)

    async def scenario() -> None:
        opened = time.monotonic()
        async with await open_client(gateway) as client:
            await wait_closed(client)
            assert time.monotonic() - opened >= 0.9
            assert client.close_code == 1001

    run(scenario())


def test_client_message_over_the_frame_limit_closes_with_1009(gateway: WebSocketGateway) -> None:
    async def scenario() -> None:
        async with await open_client(gateway) as client:
            connection_id = await connection_id_of(client)
            at_limit = "a" * (32 * 1024)
            await client.send(at_limit)
            assert await receive(client) == f"echo:{at_limit[:40]}"

            await client.send("b" * (129 * 1024))

            await wait_closed(client)
            assert client.close_code == 1009
        await wait_until(lambda: bool(invocations.of(connection_id, "$disconnect")))
        bodies = [event["body"] for event in invocations.of(connection_id, "$default")]
        assert bodies == ["whoami", at_limit]
        [disconnect] = invocations.of(connection_id, "$disconnect")
        assert disconnect["requestContext"]["disconnectStatusCode"] == 1009

    run(scenario())


def test_frame_one_byte_over_32_kb_closes_with_1009(gateway: WebSocketGateway) -> None:
    async def scenario() -> None:
        async with await open_client(gateway) as client:
            await client.send("c" * (32 * 1024 + 1))
            await wait_closed(client)
            assert client.close_code == 1009

    run(scenario())


def test_management_post_over_128_kb_raises_payload_too_large(gateway: WebSocketGateway) -> None:
    client_api = management_client(gateway)

    async def scenario() -> None:
        async with await open_client(gateway) as client:
            connection_id = await connection_id_of(client)
            at_limit = b"d" * (128 * 1024)
            await asyncio.to_thread(
                client_api.post_to_connection, ConnectionId=connection_id, Data=at_limit
            )
            assert await receive(client) == at_limit.decode()

            with pytest.raises(client_api.exceptions.PayloadTooLargeException):
                await asyncio.to_thread(
                    client_api.post_to_connection,
                    ConnectionId=connection_id,
                    Data=b"e" * (129 * 1024),
                )

    run(scenario())


def test_binary_frame_closes_with_1003_as_on_aws(gateway: WebSocketGateway) -> None:
    async def scenario() -> None:
        async with await open_client(gateway) as client:
            connection_id = await connection_id_of(client)
            await client.send(b"\x00\x01binary")
            await wait_closed(client)
            assert client.close_code == 1003
        await wait_until(lambda: bool(invocations.of(connection_id, "$disconnect")))
        assert len(invocations.of(connection_id, "$default")) == 1  # only the whoami

    run(scenario())


# -- handler scheduling -----------------------------------------------------------------------


def test_slow_handler_stalls_only_its_own_connection_whose_frames_stay_in_order(
    gateway: WebSocketGateway,
) -> None:
    async def scenario() -> None:
        async with await open_client(gateway) as slow, await open_client(gateway) as other:
            await slow.send("block")
            await slow.send("after the block")

            await other.send("not waiting")
            assert await receive(other) == "echo:not waiting"

            blocked_handler_may_finish.set()
            assert await receive(slow) == "unblocked"
            assert await receive(slow) == "echo:after the block"

    run(scenario())


# -- event shapes -------------------------------------------------------------------------------


def test_events_carry_the_api_gateway_websocket_shape(gateway: WebSocketGateway) -> None:
    async def scenario() -> str:
        async with await open_client(
            gateway,
            query="token=good&tag=a&tag=b",
            user_agent_header="shape-test/1.0",
            additional_headers={"X-Client-Version": "7"},
        ) as client:
            connection_id = await connection_id_of(client)
            await client.close(code=1000, reason="done")
        await wait_until(lambda: bool(invocations.of(connection_id, "$disconnect")))
        return connection_id

    connection_id = run(scenario())
    [connect_event] = invocations.of(connection_id, "$connect")
    [message_event] = invocations.of(connection_id, "$default")
    [disconnect_event] = invocations.of(connection_id, "$disconnect")

    assert len(connection_id) >= 12
    assert connect_event["queryStringParameters"] == {"token": "good", "tag": "b"}
    assert connect_event["multiValueQueryStringParameters"] == {
        "token": ["good"],
        "tag": ["a", "b"],
    }
    assert connect_event["headers"]["Host"] == gateway.domain_name
    assert connect_event["headers"]["X-Client-Version"] == "7"
    assert connect_event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert connect_event["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert connect_event["multiValueHeaders"]["X-Client-Version"] == ["7"]
    assert connect_event["isBase64Encoded"] is False
    assert message_event["body"] == "whoami"
    assert message_event["isBase64Encoded"] is False
    assert "headers" not in message_event

    contexts = {
        "CONNECT": connect_event["requestContext"],
        "MESSAGE": message_event["requestContext"],
        "DISCONNECT": disconnect_event["requestContext"],
    }
    for event_type, context in contexts.items():
        assert context["eventType"] == event_type
        assert context["messageDirection"] == "IN"
        assert context["stage"] == gateway.stage
        assert context["apiId"] == gateway.api_id
        assert context["domainName"] == gateway.domain_name
        assert context["connectionId"] == connection_id
        assert context["connectedAt"] == contexts["CONNECT"]["connectedAt"]
        assert context["requestTimeEpoch"] >= context["connectedAt"]
        assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "shape-test/1.0"}
        assert context["extendedRequestId"] == context["requestId"]
        time.strptime(context["requestTime"], "%d/%b/%Y:%H:%M:%S +0000")
    assert contexts["CONNECT"]["routeKey"] == "$connect"
    assert contexts["MESSAGE"]["routeKey"] == "$default"
    assert contexts["MESSAGE"]["messageId"] != contexts["MESSAGE"]["requestId"]
    assert contexts["DISCONNECT"]["routeKey"] == "$disconnect"
    assert contexts["DISCONNECT"]["disconnectStatusCode"] == 1000
    assert contexts["DISCONNECT"]["disconnectReason"] == "done"
    assert "messageId" not in contexts["CONNECT"]
    assert "disconnectStatusCode" not in contexts["MESSAGE"]
    request_ids = {context["requestId"] for context in contexts.values()}
    assert len(request_ids) == 3
