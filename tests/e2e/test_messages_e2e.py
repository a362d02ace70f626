"""Direct messages through the local stack: real WebSocket clients on the local API Gateway,
the app's $default handler, the management API pushing back, and the REST routes."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import requests
import websockets

from tests.e2e.conftest import RunningStack
from tests.support import Account

DELIVERY_SECONDS = 5.0


class Peer:
    """One open WebSocket of an account: every frame it receives, in order."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.socket:
            self.frames.append(json.loads(raw))
            self._arrived.set()

    async def send(self, frame: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(frame))

    async def wait_for(
        self, wanted: Callable[[dict[str, Any]], bool], count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = [frame for frame in self.frames if wanted(frame)]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{count} frames not received in {timeout} s: {self.frames[-5:]}"
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass

    async def close(self) -> None:
        await self.socket.close()
        self._reader.cancel()


async def connect(stack: RunningStack, account: Account) -> Peer:
    socket = await websockets.connect(f"{stack.ws_url}/?token={account.token}", open_timeout=10)
    return Peer(socket)


def of_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: (
        frame.get("type") == kind and all(frame.get(key) == value for key, value in fields.items())
    )


def send_frame(to: Account, text: str, client_id: str | None = None) -> dict[str, Any]:
    return {"action": "send", "to": to.user_id, "text": text, "client_id": client_id or str(uuid.uuid4())}  # fmt: skip


def full_history(stack: RunningStack, reader: Account, conversation_id: str) -> list[dict]:
    items, query = [], "?limit=50"
    for _ in range(100):
        page = stack.call("GET", f"/conversations/{conversation_id}/messages{query}", reader)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        if not page.json()["next_cursor"]:
            return items
        query = f"?limit=50&cursor={page.json()['next_cursor']}"
    raise AssertionError("history did not end")


def test_two_clients_exchange_messages_live_and_the_history_is_gap_free(
    local_stack: RunningStack,
) -> None:
    alice, bob = local_stack.sign_up("alice"), local_stack.sign_up("bob")

    async def scenario() -> tuple[dict[str, Any], float]:
        alice_peer, bob_peer = await connect(local_stack, alice), await connect(local_stack, bob)
        try:
            started = time.monotonic()
            await alice_peer.send(send_frame(bob, "hello bob", "first"))
            [received] = await bob_peer.wait_for(of_type("message"), timeout=DELIVERY_SECONDS)
            took = time.monotonic() - started
            [ack] = await alice_peer.wait_for(of_type("ack", client_id="first"))
            assert ack["message"] == received["message"]

            # 200 rapid sends, 100 from each side, without waiting for acks.
            for number in range(100):
                await alice_peer.send(send_frame(bob, f"a{number}", f"a{number}"))
                await bob_peer.send(send_frame(alice, f"b{number}", f"b{number}"))
            acks = await alice_peer.wait_for(of_type("ack"), count=101, timeout=120)
            await bob_peer.wait_for(of_type("ack"), count=100, timeout=120)
            await bob_peer.wait_for(of_type("message"), count=101, timeout=30)
            await alice_peer.wait_for(of_type("message"), count=100, timeout=30)

            # Each side sees the other's messages in strictly increasing seq.
            for peer in (alice_peer, bob_peer):
                seqs = [f["message"]["seq"] for f in peer.frames if f["type"] == "message"]
                assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
            # One side's own sends were accepted in the order it sent them.
            mine = [f["message"]["seq"] for f in acks[1:]]
            assert mine == sorted(mine)

            # A resend of a client_id already stored is acked with the same message.
            await alice_peer.send(send_frame(bob, "a7", "a7"))
            resent = await alice_peer.wait_for(of_type("ack", client_id="a7"), count=2)
            assert resent[0]["message"] == resent[1]["message"]
            return received["message"], took
        finally:
            await alice_peer.close()
            await bob_peer.close()

    first, took = asyncio.run(scenario())

    assert took < DELIVERY_SECONDS
    history = full_history(local_stack, bob, first["conversation_id"])
    assert [m["seq"] for m in history] == list(range(1, 202))
    assert history[0] == first
    assert len({m["message_id"] for m in history}) == 201


def test_an_offline_recipient_catches_up_and_the_read_receipt_reaches_the_sender(
    local_stack: RunningStack,
) -> None:
    alice, bob, stranger = (local_stack.sign_up(p) for p in ("alice", "bob", "stranger"))

    async def scenario() -> None:
        alice_peer = await connect(local_stack, alice)
        try:
            for number in range(3):
                await alice_peer.send(send_frame(bob, f"while you were out {number}"))
            acks = await alice_peer.wait_for(of_type("ack"), count=3)
            conversation_id = acks[0]["message"]["conversation_id"]

            # Bob comes online later and catches up after the last seq he had (none).
            caught_up = local_stack.call(
                "GET", f"/conversations/{conversation_id}/messages?after_seq=0", bob
            ).json()["items"]
            assert [m["text"] for m in caught_up] == [f"while you were out {n}" for n in range(3)]
            after_one = local_stack.call(
                "GET", f"/conversations/{conversation_id}/messages?after_seq=1", bob
            ).json()["items"]
            assert [m["seq"] for m in after_one] == [2, 3]
            inbox = local_stack.call("GET", "/conversations", bob).json()["items"]
            assert (inbox[0]["conversation_id"], inbox[0]["unread_count"]) == (conversation_id, 3)

            bob_peer = await connect(local_stack, bob)
            try:
                await bob_peer.send(
                    {"action": "read", "conversation_id": conversation_id, "seq": 3}
                )
                [receipt] = await alice_peer.wait_for(of_type("read"), timeout=DELIVERY_SECONDS)
                assert receipt == {
                    "type": "read",
                    "conversation_id": conversation_id,
                    "user_id": bob.user_id,
                    "seq": 3,
                }
                # A bad frame is answered, and the connection stays usable.
                await bob_peer.send({"action": "send", "to": alice.user_id})
                [error] = await bob_peer.wait_for(of_type("error"))
                assert error["code"] == "BadRequestError"
                await bob_peer.socket.send("not json")
                await bob_peer.wait_for(of_type("error"), count=2)
                await bob_peer.send(send_frame(alice, "still here", "after-errors"))
                await bob_peer.wait_for(of_type("ack", client_id="after-errors"))
            finally:
                await bob_peer.close()

            inbox = local_stack.call("GET", "/conversations", bob).json()["items"]
            assert inbox[0]["unread_count"] == 0
            forbidden = local_stack.call(
                "GET", f"/conversations/{conversation_id}/messages", stranger
            )
            assert forbidden.status_code == 403
        finally:
            await alice_peer.close()

    asyncio.run(scenario())


def test_a_rest_send_reaches_the_recipients_socket_and_a_resend_stores_nothing(
    local_stack: RunningStack,
) -> None:
    alice, bob = local_stack.sign_up("alice"), local_stack.sign_up("bob")

    async def scenario() -> dict[str, Any]:
        bob_peer = await connect(local_stack, bob)
        try:
            body = {"to": bob.user_id, "text": "over REST", "client_id": "rest-1"}
            first = await asyncio.to_thread(local_stack.call, "POST", "/messages", alice, json=body)
            again = await asyncio.to_thread(local_stack.call, "POST", "/messages", alice, json=body)
            assert first.status_code == again.status_code == 201, first.text
            assert again.json() == first.json()
            # Delivery is at-least-once: the resend pushes the same message again.
            pushed = await bob_peer.wait_for(of_type("message"), 2, timeout=DELIVERY_SECONDS)
            assert [frame["message"] for frame in pushed] == [first.json(), first.json()]
            return first.json()
        finally:
            await bob_peer.close()

    message = asyncio.run(scenario())
    assert full_history(local_stack, bob, message["conversation_id"]) == [message]


def test_a_like_pushes_a_notification_to_the_connected_author(local_stack: RunningStack) -> None:
    author, fan = local_stack.sign_up("author"), local_stack.sign_up("fan")
    post_id = local_stack.post_photo(author, "like me")

    async def like_while_connected() -> dict[str, Any]:
        author_peer = await connect(local_stack, author)
        try:
            liked = await asyncio.to_thread(
                requests.post,
                f"{local_stack.api_url}/posts/{post_id}/like",
                headers={"Authorization": f"Bearer {fan.token}"},
                timeout=10,
            )
            assert liked.status_code == 200, liked.text
            # The stream's batching window is a second; the push follows the stored item.
            [pushed] = await author_peer.wait_for(
                lambda f: f.get("type") == "notification" and f["notification"]["type"] == "like",
                timeout=20,
            )
            return pushed["notification"]
        finally:
            await author_peer.close()

    notification = asyncio.run(like_while_connected())

    assert notification["actor"]["user_id"] == fan.user_id
    assert notification["post_id"] == post_id


def test_a_connection_the_gateway_no_longer_has_is_forgotten_on_the_next_push(
    local_stack: RunningStack,
) -> None:
    import boto3

    alice, bob = local_stack.sign_up("alice"), local_stack.sign_up("bob")
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=local_stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    table = next(t for t in dynamodb.list_tables()["TableNames"] if t.endswith("-connections"))
    stale = "StaleConnId="  # recorded, but the gateway answers 410 Gone for it
    dynamodb.put_item(
        TableName=table,
        Item={
            "connection_id": {"S": stale},
            "user_id": {"S": bob.user_id},
            "connected_at": {"S": "2026-01-01T00:00:00.000000+0000"},
            "expires_at": {"N": str(int(time.time()) + 3600)},
        },
    )

    async def scenario() -> None:
        bob_peer = await connect(local_stack, bob)
        try:
            body = {"to": bob.user_id, "text": "anyone?", "client_id": "gone-1"}
            sent = await asyncio.to_thread(local_stack.call, "POST", "/messages", alice, json=body)
            assert sent.status_code == 201, sent.text
            await bob_peer.wait_for(of_type("message"), timeout=DELIVERY_SECONDS)
        finally:
            await bob_peer.close()

    asyncio.run(scenario())

    assert "Item" not in dynamodb.get_item(TableName=table, Key={"connection_id": {"S": stale}})


def test_a_connection_whose_token_expired_is_refused_a_frame_and_closed(
    local_stack: RunningStack,
) -> None:
    from tests.support import token_expiring_in

    alice, bob = local_stack.sign_up("alice"), local_stack.sign_up("bob")
    token, expires_at = token_expiring_in(alice, seconds=3)

    async def scenario() -> tuple[list[dict[str, Any]], Any]:
        socket = await websockets.connect(f"{local_stack.ws_url}/?token={token}", open_timeout=10)
        peer = Peer(socket)
        try:
            await peer.send(send_frame(bob, "before", "before"))
            await peer.wait_for(of_type("ack", client_id="before"))
            while time.time() < expires_at:
                await asyncio.sleep(0.05)
            await peer.send(send_frame(bob, "after", "after"))
            [refused] = await peer.wait_for(of_type("error", client_id="after"))
            # The server closes it: the reader ends when the close frame arrives.
            await asyncio.wait_for(socket.wait_closed(), timeout=DELIVERY_SECONDS)
            return [refused], socket.close_code
        finally:
            await peer.close()

    [refused], close_code = asyncio.run(scenario())
    assert refused["code"] == "TokenExpired", refused
    assert close_code is not None
    conversations = local_stack.call("GET", "/conversations", bob).json()["items"]
    assert [conversation["last_seq"] for conversation in conversations] == [1]
