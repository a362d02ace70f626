"""Notifications: made from stream records by the real stream Lambdas, listed and marked read
through the real routes, and pushed through the port to open WebSocket connections.

Records are AWS-shaped events from ``events/`` with this test's users put in, delivered as
Lambda delivers them (``app.handler_map[...]`` with a Lambda context); the end-to-end test
lets the local stack's event plumbing carry real stream records from moto instead.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
from boto3.dynamodb.types import TypeSerializer
from chalice.test import Client

from local.event_plumbing import EventPlumbing
from local.lambda_runtime import LambdaContext
from tests.support import Account, FakeWebsocketApi, load_event, open_connection

SAMPLE_EVENTS = {
    "dynamodbStreamFollowInsert.json": "follows_stream",
    "dynamodbStreamLikeInsert.json": "likes_stream",
    "dynamodbStreamLikeRemove.json": "likes_stream",
    "dynamodbStreamCommentInsert.json": "comments_stream",
    "dynamodbStreamPostInsert.json": "posts_stream",
}
_sequence = itertools.count(1)
_clock = itertools.count(1)
_serializer = TypeSerializer()


# --- events ---------------------------------------------------------------------------------


def moment() -> str:
    """A distinct, increasing, recent time for each source item a test makes."""
    at = datetime.now(UTC) + timedelta(milliseconds=next(_clock))
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def image(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def record(
    sample: str, *, new: dict[str, Any] | None = None, old: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The sample's one record, carrying these images (INSERT, MODIFY or REMOVE by which)."""
    shaped = copy.deepcopy(load_event(sample)["Records"][0])
    stream_record = shaped["dynamodb"]
    for name, item in (("NewImage", new), ("OldImage", old)):
        if item is None:
            stream_record.pop(name, None)
        else:
            stream_record[name] = image(item)
    keys = set(load_event(sample)["Records"][0]["dynamodb"]["Keys"])
    stream_record["Keys"] = {k: v for k, v in image(new or old or {}).items() if k in keys}
    shaped["eventName"] = "MODIFY" if new and old else "INSERT" if new else "REMOVE"
    stream_record["SequenceNumber"] = f"{next(_sequence):024d}"
    return shaped


def event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def deliver(app, handler: str, lambda_event: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return app.handler_map[handler](lambda_event, LambdaContext(handler))


def like(post_id: str, liker: Account, author: Account, at: str | None = None) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "user_id": liker.user_id,
        "post_author_id": author.user_id,
        "created_at": at or moment(),
    }


def comment(
    post_id: str, commenter: Account, author: Account, mentions: list[Account]
) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "comment_id": f"comment-{next(_sequence)}",
        "author_id": commenter.user_id,
        "post_author_id": author.user_id,
        "text": "nice " + " ".join(f"@{m.username}" for m in mentions),
        "mentions": [m.user_id for m in mentions],
        "created_at": moment(),
    }


def post(post_id: str, author: Account, mentions: list[Account]) -> dict[str, Any]:
    # As the posts repository stores them: mentions keep the username beside the id.
    return {
        "post_id": post_id,
        "author_id": author.user_id,
        "created_at": moment(),
        "caption": " ".join(f"@{m.username}" for m in mentions),
        "mentions": [{"user_id": m.user_id, "username": m.username} for m in mentions],
        "like_count": 0,
        "comment_count": 0,
    }


def new_post_id() -> str:
    return f"post-{next(_sequence)}"


# --- reading --------------------------------------------------------------------------------


def notifications(client: Client, account: Account, query: str = "") -> dict[str, Any]:
    response = client.http.get(f"/notifications{query}", headers=account.auth)
    assert response.status_code == 200, response.body
    return response.json_body


def items(client: Client, account: Account) -> list[dict[str, Any]]:
    return notifications(client, account, "?limit=50")["items"]


def mark_read(client: Client, account: Account, until: Any):  # type: ignore[no-untyped-def]
    return client.http.post(
        "/notifications/read", headers=account.auth, body=json.dumps({"until": until})
    )


def stored_count(recipient: Account) -> int:
    from chalicelib.notifications.repository import NotificationItem

    return NotificationItem.count(
        recipient.user_id, NotificationItem.notification_key.startswith("2")
    )


# --- the sample events ----------------------------------------------------------------------


@pytest.mark.parametrize("sample", sorted(SAMPLE_EVENTS))
def test_each_sample_event_matches_the_powertools_model(sample: str) -> None:
    parsed = DynamoDBStreamModel.model_validate(load_event(sample))
    assert parsed.Records[0].eventSource == "aws:dynamodb"


@pytest.mark.parametrize("sample", sorted(SAMPLE_EVENTS))
def test_each_sample_event_is_consumed_by_its_stream_handler(chalice_app, sample: str) -> None:  # type: ignore[no-untyped-def]
    assert deliver(chalice_app, SAMPLE_EVENTS[sample], load_event(sample)) == {
        "batchItemFailures": []
    }


# --- what each source makes -----------------------------------------------------------------


def test_a_like_notifies_the_post_author_and_an_unlike_withdraws_it(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    author, liker = make_account("author"), make_account("liker")
    liked = like(new_post_id(), liker, author)

    deliver(chalice_app, "likes_stream", event(record("dynamodbStreamLikeInsert.json", new=liked)))

    [notification] = items(client, author)
    assert notification["type"] == "like"
    assert notification["actor"] == {
        "user_id": liker.user_id,
        "username": liker.username,
        "avatar": None,
    }
    assert notification["post_id"] == liked["post_id"]
    assert notification["comment_id"] is None
    assert notification["created_at"] == liked["created_at"]
    assert notification["read"] is False
    assert items(client, liker) == []

    deliver(chalice_app, "likes_stream", event(record("dynamodbStreamLikeRemove.json", old=liked)))
    assert items(client, author) == []


def test_a_comment_notifies_the_post_author_and_everyone_it_mentions(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    author, commenter, friend = make_account("author"), make_account("says"), make_account("fr")
    said = comment(new_post_id(), commenter, author, mentions=[friend, commenter])

    deliver(
        chalice_app, "comments_stream", event(record("dynamodbStreamCommentInsert.json", new=said))
    )

    [to_author] = items(client, author)
    assert (to_author["type"], to_author["actor"]["user_id"]) == ("comment", commenter.user_id)
    assert (to_author["post_id"], to_author["comment_id"]) == (said["post_id"], said["comment_id"])
    [to_friend] = items(client, friend)
    assert (to_friend["type"], to_friend["actor"]["user_id"]) == ("mention", commenter.user_id)
    assert (to_friend["post_id"], to_friend["comment_id"]) == (said["post_id"], said["comment_id"])
    assert items(client, commenter) == []  # mentioning yourself tells nobody

    deliver(
        chalice_app, "comments_stream", event(record("dynamodbStreamCommentInsert.json", old=said))
    )
    assert items(client, author) == items(client, friend) == []


def test_a_post_notifies_whom_it_mentions_and_its_deletion_withdraws_all_about_it(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    author, mentioned, fan = make_account("author"), make_account("named"), make_account("fan")
    posted = post(new_post_id(), author, mentions=[mentioned, author])
    other_post = new_post_id()

    deliver(chalice_app, "posts_stream", event(record("dynamodbStreamPostInsert.json", new=posted)))
    deliver(
        chalice_app,
        "likes_stream",
        event(
            record("dynamodbStreamLikeInsert.json", new=like(posted["post_id"], fan, author)),
            record("dynamodbStreamLikeInsert.json", new=like(other_post, fan, author)),
        ),
    )

    [mention] = items(client, mentioned)
    assert (mention["type"], mention["actor"]["user_id"]) == ("mention", author.user_id)
    assert mention["post_id"] == posted["post_id"]
    assert mention["comment_id"] is None
    assert {n["post_id"] for n in items(client, author)} == {posted["post_id"], other_post}

    # A counter moving on the post (MODIFY) changes no notification.
    counted = {**posted, "like_count": 1}
    deliver(
        chalice_app,
        "posts_stream",
        event(record("dynamodbStreamPostInsert.json", new=counted, old=posted)),
    )
    assert len(items(client, mentioned)) == 1

    deliver(
        chalice_app, "posts_stream", event(record("dynamodbStreamPostInsert.json", old=counted))
    )
    assert items(client, mentioned) == []
    # The like of the deleted post goes with it; the other post's stays.
    assert [n["post_id"] for n in items(client, author)] == [other_post]


def test_nobody_is_notified_of_their_own_actions(chalice_app, client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    me = make_account("me")
    own_post = new_post_id()
    deliver(
        chalice_app,
        "likes_stream",
        event(record("dynamodbStreamLikeInsert.json", new=like(own_post, me, me))),
    )
    deliver(
        chalice_app,
        "comments_stream",
        event(
            record("dynamodbStreamCommentInsert.json", new=comment(own_post, me, me, mentions=[me]))
        ),
    )
    deliver(
        chalice_app,
        "posts_stream",
        event(record("dynamodbStreamPostInsert.json", new=post(own_post, me, mentions=[me]))),
    )
    edge = {"follower_id": me.user_id, "followee_id": me.user_id, "followed_at": moment()}
    deliver(
        chalice_app, "follows_stream", event(record("dynamodbStreamFollowInsert.json", new=edge))
    )
    assert items(client, me) == []
    assert stored_count(me) == 0


# --- delivery semantics ---------------------------------------------------------------------


def test_a_redelivered_record_stores_one_notification(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    author, liker = make_account("author"), make_account("liker")
    once = event(record("dynamodbStreamLikeInsert.json", new=like(new_post_id(), liker, author)))

    first = deliver(chalice_app, "likes_stream", once)
    again = deliver(chalice_app, "likes_stream", copy.deepcopy(once))

    assert first == again == {"batchItemFailures": []}
    assert len(items(client, author)) == 1
    assert stored_count(author) == 1


def test_a_failing_record_is_reported_alone_and_the_rest_of_the_batch_is_stored(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    author, liker = make_account("author"), make_account("liker")
    good = record("dynamodbStreamLikeInsert.json", new=like(new_post_id(), liker, author))
    malformed = record("dynamodbStreamLikeInsert.json", new=like(new_post_id(), liker, author))
    malformed["dynamodb"]["NewImage"]["created_at"] = {"S": "yesterday, about noon"}
    unreadable = record("dynamodbStreamLikeInsert.json", new=like(new_post_id(), liker, author))
    unreadable["dynamodb"]["NewImage"]["post_author_id"] = {"Q": "not a DynamoDB type"}

    response = deliver(chalice_app, "likes_stream", event(malformed, good, unreadable))

    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": malformed["dynamodb"]["SequenceNumber"]},
            {"itemIdentifier": unreadable["dynamodb"]["SequenceNumber"]},
        ]
    }
    assert [n["post_id"] for n in items(client, author)] == [
        good["dynamodb"]["Keys"]["post_id"]["S"]
    ]


# --- listing and read state -----------------------------------------------------------------


def like_many(app, author: Account, liker: Account, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """``count`` likes of distinct posts, oldest first; returns their post ids."""
    post_ids = [new_post_id() for _ in range(count)]
    records = [
        record("dynamodbStreamLikeInsert.json", new=like(post_id, liker, author))
        for post_id in post_ids
    ]
    assert deliver(app, "likes_stream", event(*records)) == {"batchItemFailures": []}
    return post_ids


def test_the_list_is_newest_first_and_pages_by_cursor_without_gaps_as_new_ones_arrive(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    author, liker = make_account("author"), make_account("liker")
    post_ids = like_many(chalice_app, author, liker, 5)

    first = notifications(client, author, "?limit=2")
    assert [n["post_id"] for n in first["items"]] == post_ids[::-1][:2]
    like_many(chalice_app, author, liker, 1)  # arrives at the head while paging

    seen = [n["post_id"] for n in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = notifications(client, author, f"?limit=2&cursor={cursor}")
        assert len(page["items"]) <= 2
        seen += [n["post_id"] for n in page["items"]]
        cursor = page["next_cursor"]
    assert seen == post_ids[::-1]
    times = [n["created_at"] for n in items(client, author)]
    assert times == sorted(times, reverse=True)


def test_marking_read_until_one_marks_it_and_everything_older(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    author, liker = make_account("author"), make_account("liker")
    like_many(chalice_app, author, liker, 4)
    listed = items(client, author)
    assert [n["read"] for n in listed] == [False] * 4

    response = mark_read(client, author, listed[2]["notification_id"])

    assert response.status_code == 204
    assert [n["read"] for n in items(client, author)] == [False, False, True, True]
    # Marking an older one read changes nothing: read never goes back to unread.
    assert mark_read(client, author, listed[3]["notification_id"]).status_code == 204
    assert [n["read"] for n in items(client, author)] == [False, False, True, True]
    assert mark_read(client, author, listed[0]["notification_id"]).status_code == 204
    assert [n["read"] for n in items(client, author)] == [True] * 4
    like_many(chalice_app, author, liker, 1)
    assert [n["read"] for n in items(client, author)] == [False] + [True] * 4


def test_marking_read_with_an_id_that_is_not_yours_is_404_bad_input_400_and_nothing_changes(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.notifications.domain import encode_notification_id

    author, liker, other = make_account("author"), make_account("liker"), make_account("other")
    like_many(chalice_app, author, liker, 1)
    like_many(chalice_app, other, liker, 1)
    foreign = items(client, other)[0]["notification_id"]
    unknown = encode_notification_id("2026-11-20T10:00:00.000Z#0123456789abcdef")

    # Ids are opaque: one that names none of the caller's notifications is not found, however
    # it is spelled; what is not an id at all (empty, not a string) is bad input.
    for until in ["garbage", "!!!!", foreign, unknown, foreign + "A"]:
        response = mark_read(client, author, until)
        assert response.status_code == 404, until
        assert response.json_body["Code"] == "NotFoundError"
    for until in ["", 42, None, ["x"]]:
        response = mark_read(client, author, until)
        assert response.status_code == 400, until
        assert response.json_body["Code"] == "BadRequestError"
    assert [n["read"] for n in items(client, author)] == [False]
    assert [n["read"] for n in items(client, other)] == [False]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=51", "?cursor=junk"])
def test_bad_list_parameters_are_400(client: Client, make_account, query: str) -> None:  # type: ignore[no-untyped-def]
    response = client.http.get(f"/notifications{query}", headers=make_account().auth)
    assert response.status_code == 400


def test_a_cursor_from_someone_elses_list_is_refused(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    author, liker = make_account("author"), make_account("liker")
    like_many(chalice_app, author, liker, 3)
    cursor = notifications(client, author, "?limit=1")["next_cursor"]
    response = client.http.get(f"/notifications?cursor={cursor}", headers=liker.auth)
    assert response.status_code == 400


def test_expired_notifications_are_not_listed_before_ttl_deletes_them(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    author, liker = make_account("author"), make_account("liker")
    long_ago = (datetime.now(UTC) - timedelta(days=91)).isoformat(timespec="milliseconds")
    stale = like(new_post_id(), liker, author, at=long_ago.replace("+00:00", "Z"))
    deliver(chalice_app, "likes_stream", event(record("dynamodbStreamLikeInsert.json", new=stale)))
    assert stored_count(author) == 1  # DynamoDB TTL has not run (moto never runs it)
    assert items(client, author) == []


# --- end to end: real stream records through the event plumbing -----------------------------


@pytest.fixture
def plumbing(chalice_app) -> Iterator[EventPlumbing]:  # type: ignore[no-untyped-def]
    with EventPlumbing(chalice_app) as running:
        assert running.wait_until_idle(timeout=60), "earlier stream records still pending"
        yield running


def test_following_someone_notifies_them_through_the_stream_and_unfollowing_withdraws_it(
    plumbing: EventPlumbing, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    follower, followee = make_account("follower"), make_account("followee")

    followed = client.http.post(f"/users/{followee.user_id}/follow", headers=follower.auth)
    assert followed.status_code == 200
    assert plumbing.wait_until_idle(timeout=30)

    [notification] = items(client, followee)
    assert notification["type"] == "follow"
    assert notification["actor"]["user_id"] == follower.user_id
    assert notification["actor"]["username"] == follower.username
    assert notification["post_id"] is None
    assert items(client, follower) == []

    client.http.delete(f"/users/{followee.user_id}/follow", headers=follower.auth)
    assert plumbing.wait_until_idle(timeout=30)
    assert items(client, followee) == []


def test_posts_likes_and_comments_notify_through_the_streams_and_deleting_withdraws(
    chalice_app, client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, fan, friend = make_account("author"), make_account("fan"), make_account("friend")
    media_id = make_ready_media(author)

    with EventPlumbing(chalice_app) as plumbing:
        created = client.http.post(
            "/posts",
            headers=author.auth,
            body=json.dumps({"media_ids": [media_id], "caption": f"with @{friend.username}"}),
        )
        assert created.status_code == 201, created.body
        post_id = created.json_body["post_id"]
        assert client.http.post(f"/posts/{post_id}/like", headers=fan.auth).status_code == 200
        said = client.http.post(
            f"/posts/{post_id}/comments",
            headers=fan.auth,
            body=json.dumps({"text": f"@{friend.username} look"}),
        )
        assert said.status_code == 201, said.body
        comment_id = said.json_body["comment_id"]
        assert plumbing.wait_until_idle(timeout=30)

        told_author = items(client, author)
        assert [(n["type"], n["actor"]["user_id"]) for n in told_author] == [
            ("comment", fan.user_id),
            ("like", fan.user_id),
        ]
        assert told_author[0]["comment_id"] == comment_id
        told_friend = items(client, friend)
        assert [(n["type"], n["actor"]["user_id"], n.get("comment_id")) for n in told_friend] == [
            ("mention", fan.user_id, comment_id),
            ("mention", author.user_id, None),
        ]
        assert {n["post_id"] for n in told_author + told_friend} == {post_id}
        assert items(client, fan) == []

        client.http.delete(f"/posts/{post_id}/like", headers=fan.auth)
        client.http.delete(f"/posts/{post_id}/comments/{comment_id}", headers=fan.auth)
        assert plumbing.wait_until_idle(timeout=30)
        assert items(client, author) == []
        assert [n["comment_id"] for n in items(client, friend) if n["comment_id"]] == []

        assert client.http.delete(f"/posts/{post_id}", headers=author.auth).status_code == 204
        assert plumbing.wait_until_idle(timeout=30)
        assert items(client, friend) == []


# --- the push port and its WebSocket adapter ------------------------------------------------


class RecordingPusher:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.pushed: list[tuple[str, dict[str, Any]]] = []

    def push_frame(
        self, user_id: str, frame: dict[str, Any], skip_connection: str | None = None
    ) -> None:
        self.pushed.append((user_id, frame))
        if self.fail:
            raise RuntimeError("the push channel is down")


def test_the_websocket_pusher_sends_to_every_open_connection_and_forgets_gone_ones(
    chalice_app, make_account
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.websocket import repository as connections
    from chalicelib.websocket.sender import WebSocketPusher

    recipient, bystander = make_account("recipient"), make_account("bystander")
    for connection_id in ("phone", "laptop", "closed-tab"):
        open_connection(recipient, connection_id)
    open_connection(bystander, "phone")
    gone = f"{recipient.user_id}-closed-tab"
    sender = FakeWebsocketApi(gone={gone})
    notification = {"notification_id": "n1", "type": "follow"}

    WebSocketPusher(sender).push_frame(
        recipient.user_id, {"type": "notification", "notification": notification}
    )

    assert sorted(connection_id for connection_id, _ in sender.sent) == [
        f"{recipient.user_id}-laptop",
        f"{recipient.user_id}-phone",
    ]
    assert all(
        message == {"type": "notification", "notification": notification}
        for _, message in sender.sent
    )
    now = datetime.now(UTC)
    assert sorted(connections.connections_of(recipient.user_id, now)) == [
        f"{recipient.user_id}-laptop",
        f"{recipient.user_id}-phone",
    ]
    assert connections.connections_of(bystander.user_id, now) == [f"{bystander.user_id}-phone"]


def test_stored_notifications_are_pushed_once_as_the_list_renders_them(
    chalice_app, client: Client, make_account, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.notifications import consumers

    pusher = RecordingPusher()
    monkeypatch.setattr(consumers, "notification_pusher", lambda: pusher)
    author, liker = make_account("author"), make_account("liker")
    once = event(record("dynamodbStreamLikeInsert.json", new=like(new_post_id(), liker, author)))

    deliver(chalice_app, "likes_stream", once)
    deliver(chalice_app, "likes_stream", copy.deepcopy(once))  # redelivered: not pushed again

    frame = {"type": "notification", "notification": items(client, author)[0]}
    assert pusher.pushed == [(author.user_id, frame)]


def test_a_failing_push_never_fails_the_record(
    chalice_app, client: Client, make_account, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.notifications import consumers

    monkeypatch.setattr(consumers, "notification_pusher", lambda: RecordingPusher(fail=True))
    author, liker = make_account("author"), make_account("liker")
    liked = event(record("dynamodbStreamLikeInsert.json", new=like(new_post_id(), liker, author)))

    assert deliver(chalice_app, "likes_stream", liked) == {"batchItemFailures": []}
    assert len(items(client, author)) == 1


def test_the_pusher_is_the_apps_websocket_api_when_one_is_configured(
    chalice_app, make_account, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import reload_settings
    from chalicelib.notifications import consumers
    from chalicelib.websocket.push import NoLivePush
    from chalicelib.websocket.sender import WebSocketPusher

    websocket_api = chalice_app.websocket_api
    # Leave the app's client as it was for other tests: configure() only ever sets it once.
    monkeypatch.setattr(websocket_api, "_endpoint", None)
    monkeypatch.setattr(websocket_api, "_client", None)
    consumers.notification_pusher.cache_clear()
    try:
        assert isinstance(consumers.notification_pusher(), NoLivePush)

        monkeypatch.setenv("WEBSOCKET_API_ID", "abc123")
        monkeypatch.setenv("WEBSOCKET_STAGE", "live")
        reload_settings()
        consumers.notification_pusher.cache_clear()
        pusher = consumers.notification_pusher()

        assert isinstance(pusher, WebSocketPusher)
        region = reload_settings().aws_region
        assert websocket_api._endpoint == f"https://abc123.execute-api.{region}.amazonaws.com/live"
        sent: list[str] = []
        monkeypatch.setattr(
            websocket_api, "send", lambda connection_id, _: sent.append(connection_id)
        )
        recipient = make_account("recipient")
        open_connection(recipient, "phone")
        pusher.push_frame(recipient.user_id, {"type": "notification"})
        assert sent == [f"{recipient.user_id}-phone"]
    finally:
        monkeypatch.undo()
        reload_settings()
        consumers.notification_pusher.cache_clear()
