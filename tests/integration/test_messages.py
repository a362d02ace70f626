"""Direct messages: REST routes, the service under concurrency, and $default frames called as
Lambda calls them, with the WebSocket sender stubbed (moto has no API Gateway to send to)."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketMessageEventModel
from chalice.test import Client

from tests.support import (
    Account,
    DynamoDBCallCounter,
    FakeWebsocketApi,
    load_event,
    open_connection,
    send_frame,
)


def send(client: Client, sender: Account, to: str, text: str = "hi", **extra: Any) -> Any:
    headers = {**sender.auth, **extra.pop("headers", {})}
    details = {"to": to, "text": text, "client_id": extra.pop("client_id", str(uuid.uuid4()))}
    return client.http.post("/messages", headers=headers, body=json.dumps(details))


def history(client: Client, reader: Account, conversation_id: str, query: str = "") -> Any:
    return client.http.get(f"/conversations/{conversation_id}/messages{query}", headers=reader.auth)


def test_the_sample_message_event_matches_the_powertools_model() -> None:
    APIGatewayWebSocketMessageEventModel.model_validate(load_event("wsMessageSend.json"))


def test_the_default_handler_is_the_apps_message_function(chalice_app) -> None:  # type: ignore[no-untyped-def]
    assert chalice_app.websocket_handlers["$default"].name == "message"


# REST ---------------------------------------------------------------------------------------


def test_a_sent_message_is_in_both_members_history_with_seq_from_one(
    client: Client, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_account("alice"), make_account("bob")

    first = send(client, alice, bob.user_id, "hello bob")
    second = send(client, bob, alice.user_id, "hi alice")

    assert first.status_code == 201, first.body
    message = first.json_body
    assert set(message) == {"message_id", "conversation_id", "sender_id", "text", "seq", "sent_at"}
    assert (message["sender_id"], message["text"], message["seq"]) == (
        alice.user_id,
        "hello bob",
        1,
    )
    assert message["sent_at"].endswith("Z")
    assert second.json_body["conversation_id"] == message["conversation_id"]
    assert second.json_body["seq"] == 2
    for reader in (alice, bob):
        listed = history(client, reader, message["conversation_id"])
        assert listed.status_code == 200
        assert listed.json_body["items"] == [message, second.json_body]


def test_a_resend_with_the_same_client_id_returns_the_first_message_and_stores_nothing(
    client: Client, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_account("alice"), make_account("bob")
    first = send(client, alice, bob.user_id, "once", client_id="c-1").json_body

    again = send(client, alice, bob.user_id, "once", client_id="c-1")
    other_text = send(client, alice, bob.user_id, "changed my mind", client_id="c-1")
    next_one = send(client, alice, bob.user_id, "twice", client_id="c-2")

    assert again.status_code == 201
    assert again.json_body == first
    assert other_text.json_body == first  # the first send of a client_id wins
    assert next_one.json_body["seq"] == 2
    items = history(client, bob, first["conversation_id"]).json_body["items"]
    assert [m["seq"] for m in items] == [1, 2]


def test_an_idempotency_key_replays_the_first_response(
    client: Client, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_account("alice"), make_account("bob")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = send(client, alice, bob.user_id, "keyed", client_id="k-1", headers=key)
    replay = send(client, alice, bob.user_id, "keyed", client_id="k-1", headers=key)
    reused = send(client, alice, bob.user_id, "other", client_id="k-2", headers=key)

    assert first.status_code == replay.status_code == 201
    assert replay.json_body == first.json_body
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert reused.status_code == 422


@pytest.mark.parametrize(
    ("details", "status"),
    [
        ({"text": ""}, 400),
        ({"text": "   "}, 400),
        ({"text": "x" * 2001}, 400),
        ({"text": 12}, 400),
        ({"client_id": ""}, 400),
        ({"client_id": "has space"}, 400),
        ({"to": "no-such-user"}, 404),
    ],
)
def test_bad_sends_are_refused(
    client: Client, make_account, websocket_api, details: dict[str, Any], status: int
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_account("alice"), make_account("bob")
    body = {"to": bob.user_id, "text": "hi", "client_id": "c", **details}
    response = client.http.post("/messages", headers=alice.auth, body=json.dumps(body))
    assert response.status_code == status, response.body
    assert set(response.json_body) == {"Code", "Message"}


def test_text_of_exactly_2000_characters_is_accepted(
    client: Client, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_account("alice"), make_account("bob")
    assert send(client, alice, bob.user_id, "é" * 2000).status_code == 201


def test_you_cannot_message_yourself(client: Client, make_account, websocket_api) -> None:  # type: ignore[no-untyped-def]
    alice = make_account("alice")
    response = send(client, alice, alice.user_id)
    assert response.status_code == 400
    assert "yourself" in response.json_body["Message"]


def test_only_members_read_a_conversation_and_unknown_ones_answer_the_same(
    client: Client, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    alice, bob, stranger = make_account("alice"), make_account("bob"), make_account("stranger")
    conversation_id = send(client, alice, bob.user_id).json_body["conversation_id"]

    for unreadable in (conversation_id, "0" * 32, "not-an-id"):
        response = history(client, stranger, unreadable)
        assert response.status_code == 403, unreadable
        assert response.json_body["Code"] == "ForbiddenError"


def test_history_pages_oldest_first_after_a_seq(
    client: Client, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_account("alice"), make_account("bob")
    conversation_id = ""
    for number in range(7):
        conversation_id = send(client, alice, bob.user_id, f"m{number}").json_body[
            "conversation_id"
        ]

    seqs, cursor = [], ""
    for _ in range(5):
        page = history(client, bob, conversation_id, f"?after_seq=2&limit=2&cursor={cursor}")
        assert page.status_code == 200, page.body
        seqs += [m["seq"] for m in page.json_body["items"]]
        cursor = page.json_body["next_cursor"]
        if cursor is None:
            break
    assert seqs == [3, 4, 5, 6, 7]
    for bad in ("?after_seq=-1", "?after_seq=abc", "?after_seq=1e3", "?limit=0"):
        assert history(client, bob, conversation_id, bad).status_code == 400, bad


def test_conversations_list_latest_activity_first_with_unread_counts(
    client: Client, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.messages import service
    from chalicelib.websocket.push import NoLivePush

    me, old_friend, new_friend = make_account("me"), make_account("old"), make_account("new")
    send(client, old_friend, me.user_id, "one")
    send(client, old_friend, me.user_id, "two")
    send(client, me, new_friend.user_id, "hey")
    latest = send(client, new_friend, me.user_id, "hey back").json_body

    listed = client.http.get("/conversations", headers=me.auth).json_body
    assert [c["other_user_id"] for c in listed["items"]] == [
        new_friend.user_id,
        old_friend.user_id,
    ]
    newest = listed["items"][0]
    assert newest["last_message"] == latest
    assert newest["other_user"]["username"] == new_friend.username
    # My own message moved my read pointer; only the reply is unread.
    assert [c["unread_count"] for c in listed["items"]] == [1, 2]

    old_conversation = listed["items"][1]["conversation_id"]
    service.mark_read(me.user_id, old_conversation, 1, NoLivePush())
    service.mark_read(me.user_id, old_conversation, 0, NoLivePush())  # never moves back
    again = client.http.get("/conversations?limit=1", headers=me.auth).json_body
    assert len(again["items"]) == 1 and again["next_cursor"]
    rest = client.http.get(
        f"/conversations?limit=1&cursor={again['next_cursor']}", headers=me.auth
    ).json_body
    assert rest["items"][0]["unread_count"] == 1
    assert rest["items"][0]["read_seq"] == 1
    # The sender of the old conversation has nothing unread: both messages are theirs.
    theirs = client.http.get("/conversations", headers=old_friend.auth).json_body["items"]
    assert theirs[0]["unread_count"] == 0


# The service under concurrency and failure --------------------------------------------------


def test_concurrent_sends_from_both_sides_get_gap_free_seqs(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.messages import service
    from chalicelib.messages.schemas import SendMessageInput
    from chalicelib.websocket.push import NoLivePush

    alice, bob = make_account("alice"), make_account("bob")
    per_thread, results, errors = 15, [], []

    def burst(sender: Account, recipient: Account, name: str) -> None:
        for number in range(per_thread):
            details = SendMessageInput(
                to=recipient.user_id, text=f"{name}{number}", client_id=f"{name}-{number}"
            )
            try:
                results.append(service.send_message(sender.user_id, details, NoLivePush()))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [
        threading.Thread(target=burst, args=(alice, bob, "a1")),
        threading.Thread(target=burst, args=(alice, bob, "a2")),
        threading.Thread(target=burst, args=(bob, alice, "b1")),
        threading.Thread(target=burst, args=(bob, alice, "b2")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    total = per_thread * len(threads)
    assert sorted(sent.message.seq for sent in results) == list(range(1, total + 1))
    conversation_id = results[0].message.conversation_id
    stored = history(client, alice, conversation_id, "?limit=50").json_body
    stored_items = stored["items"]
    if stored["next_cursor"]:
        stored_items += history(
            client, alice, conversation_id, f"?limit=50&cursor={stored['next_cursor']}"
        ).json_body["items"]
    assert [m["seq"] for m in stored_items] == list(range(1, total + 1))
    assert sorted(m["text"] for m in stored_items) == sorted(r.message.text for r in results)


def test_a_send_after_another_lambdas_send_learns_the_seq_from_the_cancellation(
    client: Client, make_account, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.memo import BoundedMemo
    from chalicelib.messages import repository, service
    from chalicelib.messages.domain import conversation_id_of
    from chalicelib.messages.schemas import SendMessageInput
    from chalicelib.websocket.push import NoLivePush

    alice, bob = make_account("alice"), make_account("bob")

    def send_as(sender: Account, to: Account, text: str) -> int:
        details = SendMessageInput(to=to.user_id, text=text, client_id=text)
        return service.send_message(sender.user_id, details, NoLivePush()).message.seq

    assert send_as(alice, bob, "one") == 1  # this Lambda now guesses 1 for the next send
    this_lambda = repository._last_seq_stored
    # Another Lambda (its own memory) stores seq 2 and 3.
    monkeypatch.setattr(repository, "_last_seq_stored", BoundedMemo(capacity=10))
    assert [send_as(bob, alice, "two"), send_as(bob, alice, "three")] == [2, 3]
    monkeypatch.setattr(repository, "_last_seq_stored", this_lambda)

    with DynamoDBCallCounter() as calls:
        seq = send_as(alice, bob, "four")

    assert seq == 4
    # The stale guess (2) is cancelled and the cancellation says 3: no read in between.
    assert (calls.count("TransactWriteItems"), calls.count("GetItem")) == (2, 0)
    conversation_id = conversation_id_of(alice.user_id, bob.user_id)
    items = history(client, alice, conversation_id).json_body["items"]
    assert [(m["seq"], m["text"]) for m in items] == [
        (1, "one"), (2, "two"), (3, "three"), (4, "four"),
    ]  # fmt: skip


def test_a_warm_send_frame_reads_nothing_before_its_one_transaction(
    chalice_app, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_account("alice"), make_account("bob")
    alice_phone, bob_phone = open_connection(alice, "phone"), open_connection(bob, "phone")
    send_frame(chalice_app, alice_phone, {"action": "send", "to": bob.user_id, "text": "1", "client_id": "w1"})  # fmt: skip

    with DynamoDBCallCounter() as calls:
        send_frame(chalice_app, alice_phone, {"action": "send", "to": bob.user_id, "text": "2", "client_id": "w2"})  # fmt: skip

    assert websocket_api.to(bob_phone)[-1]["message"]["seq"] == 2
    # One transaction, then one Query per member for their open connections.
    assert sorted(calls.calls) == ["Query", "Query", "TransactWriteItems"]


def test_a_crash_before_the_send_commits_leaves_no_gap_and_the_retry_stores_once(
    client: Client, make_account, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core import dynamodb
    from chalicelib.core.errors import DependencyUnavailable
    from chalicelib.messages import service
    from chalicelib.messages.schemas import SendMessageInput
    from chalicelib.websocket.push import NoLivePush

    alice, bob = make_account("alice"), make_account("bob")
    first = service.send_message(
        alice.user_id, SendMessageInput(to=bob.user_id, text="one", client_id="x1"), NoLivePush()
    )
    real_transact = dynamodb.transact

    def crash(*args: Any, **kwargs: Any) -> None:
        raise DependencyUnavailable("the function died mid-send")

    from chalicelib.messages import repository

    monkeypatch.setattr(repository, "transact", crash)
    details = SendMessageInput(to=bob.user_id, text="two", client_id="x2")
    with pytest.raises(DependencyUnavailable):
        service.send_message(alice.user_id, details, NoLivePush())
    monkeypatch.setattr(repository, "transact", real_transact)

    retried = service.send_message(alice.user_id, details, NoLivePush())
    again = service.send_message(alice.user_id, details, NoLivePush())

    assert retried.message.seq == first.message.seq + 1 == 2
    assert again == type(again)(retried.message, created=False)
    items = history(client, bob, first.message.conversation_id).json_body["items"]
    assert [(m["seq"], m["text"]) for m in items] == [(1, "one"), (2, "two")]


def test_a_failed_push_loses_nothing_and_the_retry_does_not_duplicate(
    chalice_app, client: Client, make_account, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.websocket import push
    from chalicelib.websocket.sender import WebSocketPusher

    down = FakeWebsocketApi(fail=True)
    monkeypatch.setattr(push, "frame_pusher", lambda *_, **__: WebSocketPusher(down))
    alice, bob = make_account("alice"), make_account("bob")
    open_connection(bob, "phone")

    sent = send(client, alice, bob.user_id, "are you there?", client_id="retry-me")
    retried = send(client, alice, bob.user_id, "are you there?", client_id="retry-me")

    assert sent.status_code == retried.status_code == 201
    assert retried.json_body == sent.json_body
    items = history(client, bob, sent.json_body["conversation_id"]).json_body["items"]
    assert items == [sent.json_body]


# WebSocket frames ---------------------------------------------------------------------------


def test_a_send_frame_acks_the_sender_and_reaches_every_other_connection_of_both(
    chalice_app, client: Client, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.websocket import repository as connections

    alice, bob = make_account("alice"), make_account("bob")
    alice_phone, alice_laptop = open_connection(alice, "phone"), open_connection(alice, "laptop")
    bob_phone, bob_gone = open_connection(bob, "phone"), open_connection(bob, "closed-tab")
    websocket_api.gone.add(bob_gone)

    send_frame(chalice_app, alice_phone, {"action": "send", "to": bob.user_id, "text": "yo", "client_id": "f1"})  # fmt: skip

    [ack] = websocket_api.to(alice_phone)
    assert ack["type"] == "ack" and ack["client_id"] == "f1"
    message = ack["message"]
    assert (message["text"], message["seq"], message["sender_id"]) == ("yo", 1, alice.user_id)
    assert websocket_api.to(alice_laptop) == [{"type": "message", "message": message}]
    assert websocket_api.to(bob_phone) == [{"type": "message", "message": message}]
    assert connections.opened_connection(bob_gone) is None  # forgotten, alone
    kept = connections.opened_connection(bob_phone)
    assert kept is not None and kept.user_id == bob.user_id
    assert history(client, bob, message["conversation_id"]).json_body["items"] == [message]

    send_frame(chalice_app, alice_phone, {"action": "send", "to": bob.user_id, "text": "yo", "client_id": "f1"})  # fmt: skip
    assert websocket_api.to(alice_phone)[-1] == ack  # the resend is acked with the same message
    assert len(history(client, bob, message["conversation_id"]).json_body["items"]) == 1


def test_a_read_frame_moves_the_pointer_and_tells_the_other_member(
    chalice_app, client: Client, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_account("alice"), make_account("bob")
    alice_phone, bob_phone = open_connection(alice, "phone"), open_connection(bob, "phone")
    conversation_id = send(client, alice, bob.user_id, "read me").json_body["conversation_id"]
    send(client, alice, bob.user_id, "and me")
    websocket_api.sent.clear()

    send_frame(
        chalice_app, bob_phone, {"action": "read", "conversation_id": conversation_id, "seq": 2}
    )
    send_frame(
        chalice_app, bob_phone, {"action": "read", "conversation_id": conversation_id, "seq": 1}
    )

    assert websocket_api.to(alice_phone) == [
        {"type": "read", "conversation_id": conversation_id, "user_id": bob.user_id, "seq": 2}
    ]
    listed = client.http.get("/conversations", headers=bob.auth).json_body["items"]
    assert (listed[0]["read_seq"], listed[0]["unread_count"]) == (2, 0)

    send_frame(
        chalice_app, bob_phone, {"action": "read", "conversation_id": conversation_id, "seq": 9}
    )
    assert websocket_api.to(bob_phone)[-1]["code"] == "BadRequestError"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json", "BadRequestError"),
        ("", "BadRequestError"),
        ("[1, 2]", "BadRequestError"),
        ('"send"', "BadRequestError"),
        ("[" * 100_000, "BadRequestError"),
        ({"action": "dance"}, "BadRequestError"),
        ({"text": "no action"}, "BadRequestError"),
        ({"action": "send", "text": "hi", "client_id": "e1"}, "BadRequestError"),
        ({"action": "send", "to": 12, "text": "hi", "client_id": "e2"}, "BadRequestError"),
        ({"action": "send", "to": "u", "text": "x" * 2001, "client_id": "e3"}, "BadRequestError"),
        ({"action": "send", "to": "u", "text": "hi", "client_id": "e4", "x": 1}, "BadRequestError"),
        ('{"action": "send", "to": "u", "text": "\\ud800", "client_id": "e5"}', "BadRequestError"),
        ({"action": "send", "to": "nobody", "text": "hi", "client_id": "e6"}, "NotFoundError"),
        ({"action": "read", "conversation_id": "0" * 32, "seq": 1}, "ForbiddenError"),
        ({"action": "read", "conversation_id": "c", "seq": "1"}, "BadRequestError"),
        ({"action": "read", "conversation_id": "c", "seq": -1}, "BadRequestError"),
    ],
)
def test_bad_frames_get_an_error_frame_and_change_nothing(
    chalice_app, client: Client, make_account, websocket_api, body: Any, code: str
) -> None:  # type: ignore[no-untyped-def]
    alice = make_account("alice")
    phone = open_connection(alice, "phone")

    send_frame(chalice_app, phone, body)

    [error] = websocket_api.to(phone)
    assert error["type"] == "error" and error["code"] == code, error
    assert error["message"]
    if isinstance(body, dict) and "client_id" in body:
        assert error["client_id"] == body["client_id"]
    assert client.http.get("/conversations", headers=alice.auth).json_body["items"] == []


def test_a_frame_from_an_unknown_connection_is_refused(chalice_app, websocket_api) -> None:  # type: ignore[no-untyped-def]
    send_frame(chalice_app, "never-connected", {"action": "read", "conversation_id": "c", "seq": 1})
    [error] = websocket_api.to("never-connected")
    assert error["code"] == "UnauthorizedError"
