"""Faults in the stream and queue consumers: a record that fails twice is done once.

Every stream Lambda and the fan-out worker run under the local stack's event plumbing, which
redelivers as Lambda does: a stream batch from the lowest failed record on (so the records
after it in the batch come again too), a queue's failed messages alone. Each case writes
three records close together (one batch, within the mapping's batching window), makes one
of them fail at a seam below its consumer on its first two deliveries (a data layer call
raising ``DependencyUnavailable``: before its write, as a throttled or unreachable DynamoDB
would, or after it, as an invocation that times out once its write is done), and checks the
end state is one clean processing of all three: each notification, follow, feed entry and
tray entry once, counters equal to what was done.

The failing seam is below the *last* consumer of the table where there are several, so the
consumers before it run again on every redelivery.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from chalice.test import Client

from local.event_plumbing import EventPlumbing
from tests.support import Account, create_post, objects_of_media

FAILURES = 2  # the record's first two deliveries fail; Lambda's (and the plumbing's) retries


@pytest.fixture(scope="module")
def plumbing(chalice_app) -> Iterator[EventPlumbing]:  # type: ignore[no-untyped-def]
    with EventPlumbing(chalice_app, fire_schedules_on_timer=False) as running:
        assert running.wait_until_idle(timeout=60)
        yield running


@dataclass
class Fault:
    """Counts what the seam saw of the target record: its calls, and the failures raised."""

    calls: int = 0
    failures: int = 0


# When the seam fails: before its write (the write is refused: throttled, unreachable), or
# after it (the write is done, then the invocation dies: a timeout, a crash).
BEFORE, AFTER = "before the write", "after the write"
_mode = {"when": BEFORE}


def fail_twice(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, is_target: Callable[..., bool]
) -> Fault:
    """Make ``owner.name`` raise for the target on its first ``FAILURES`` calls, before or
    after doing its work (the test's mode)."""
    from chalicelib.core.errors import DependencyUnavailable

    original = getattr(owner, name)
    fault, when = Fault(), _mode["when"]

    def seam(*args: Any, **kwargs: Any) -> Any:
        if not is_target(*args, **kwargs):
            return original(*args, **kwargs)
        fault.calls += 1
        if fault.failures >= FAILURES:
            return original(*args, **kwargs)
        fault.failures += 1
        if when == AFTER:
            original(*args, **kwargs)
        raise DependencyUnavailable(f"injected {when}: retry shortly")

    monkeypatch.setattr(owner, name, seam)
    return fault


@dataclass(frozen=True)
class Delivery:
    handler: str
    records: int
    failed: int


def record_deliveries(monkeypatch: pytest.MonkeyPatch) -> list[Delivery]:
    """Every batch the plumbing hands a handler from now on: its size and how many of its
    records failed (the local stack's Lambda side, not the app, is observed)."""
    from local.plumbing import lambda_semantics

    deliveries: list[Delivery] = []
    original = lambda_semantics.invoke_batch

    def observed(function: Any, event: dict[str, Any], identifiers: Any) -> Any:
        outcome = original(function, event, identifiers)
        failed = len(identifiers) if outcome.whole_batch_failed else len(outcome.failed_identifiers)
        deliveries.append(Delivery(function.handler_name, len(identifiers), failed))
        return outcome

    # The one delivery step of stream and queue batches alike.
    monkeypatch.setattr(lambda_semantics, "invoke_batch", observed)
    return deliveries


@dataclass
class World:
    client: Client
    make_account: Callable[..., Account]
    make_ready_media: Callable[..., str]
    plumbing: EventPlumbing
    monkeypatch: pytest.MonkeyPatch
    ids: dict[str, Any] = field(default_factory=dict)

    def call(self, method: str, path: str, account: Account, body: Any = None) -> Any:
        payload = json.dumps(body).encode() if body is not None else b""
        response = self.client.http.request(method, path, headers=account.auth, body=payload)
        assert response.status_code < 300, (method, path, response.body)
        return response.json_body if response.body else None

    def settle(self) -> None:
        assert self.plumbing.wait_until_idle(timeout=60)

    def notices(self, account: Account, kind: str) -> list[str]:
        """Actors of the account's notifications of one type, sorted."""
        items = self.call("GET", "/notifications?limit=50", account)["items"]
        return sorted(item["actor"]["user_id"] for item in items if item["type"] == kind)

    def feed(self, account: Account) -> list[str]:
        return [post["post_id"] for post in self.call("GET", "/feed?limit=50", account)["items"]]

    def profile(self, account: Account) -> dict[str, Any]:
        return self.call("GET", "/users/me", account)


def stored(table_setting: str, key: str, value: str) -> list[dict[str, Any]]:
    """The items of a table under one partition key, as stored."""
    from chalicelib.core.config import get_settings

    return boto3.client("dynamodb").query(
        TableName=getattr(get_settings(), table_setting),
        KeyConditionExpression=f"{key} = :v",
        ExpressionAttributeValues={":v": {"S": value}},
        ConsistentRead=True,
    )["Items"]


# --- the cases: each arranges, arms the fault, acts (three records) and checks -------------


def likes_stream_case(world: World) -> Fault:
    """likes_stream -> notifications.on_like_record: the second like's notification."""
    from chalicelib.notifications import repository

    author = world.make_account("author")
    post_id = create_post(world.client, author, world.make_ready_media(author))
    likers = [world.make_account("liker") for _ in range(3)]
    fault = fail_twice(
        world.monkeypatch, repository, "store_notification",
        lambda notice, *_: notice.actor_id == likers[1].user_id,
    )  # fmt: skip
    for liker in likers:
        world.call("POST", f"/posts/{post_id}/like", liker)
    world.settle()
    assert world.notices(author, "like") == sorted(liker.user_id for liker in likers)
    assert world.call("GET", f"/posts/{post_id}", author)["like_count"] == 3
    return fault


def comments_stream_case(world: World) -> Fault:
    """comments_stream -> notifications.on_comment_record: the second comment's notification."""
    from chalicelib.notifications import repository

    author = world.make_account("author")
    post_id = create_post(world.client, author, world.make_ready_media(author))
    commenters = [world.make_account("commenter") for _ in range(3)]
    fault = fail_twice(
        world.monkeypatch, repository, "store_notification",
        lambda notice, *_: notice.actor_id == commenters[1].user_id,
    )  # fmt: skip
    for commenter in commenters:
        world.call("POST", f"/posts/{post_id}/comments", commenter, {"text": "nice"})
    world.settle()
    assert world.notices(author, "comment") == sorted(c.user_id for c in commenters)
    assert world.call("GET", f"/posts/{post_id}", author)["comment_count"] == 3
    return fault


def follows_stream_case(world: World) -> Fault:
    """follows_stream -> feed, notifications, then stories.on_follow_record (the last): the
    second follower's tray backfill. The feed backfill and the follow notification run again
    on each redelivery."""
    from chalicelib.stories import repository

    target = world.make_account("target")
    post_id = create_post(world.client, target, world.make_ready_media(target))
    story = world.call(
        "POST", "/stories", target, {"media_id": world.make_ready_media(target, "story")}
    )
    world.settle()
    followers = [world.make_account("follower") for _ in range(3)]
    fault = fail_twice(
        world.monkeypatch, repository, "add_refs_to_tray",
        lambda follower_id, *_: follower_id == followers[1].user_id,
    )  # fmt: skip
    for follower in followers:
        world.call("POST", f"/users/{target.user_id}/follow", follower)
    world.settle()
    assert world.notices(target, "follow") == sorted(f.user_id for f in followers)
    assert world.profile(target)["follower_count"] == 3
    for follower in followers:
        assert world.feed(follower) == [post_id]
        entries = stored("story_trays_table", "viewer_id", follower.user_id)
        assert [item["story_id"]["S"] for item in entries] == [story["story_id"]]
    return fault


def posts_stream_case(world: World) -> Fault:
    """posts_stream -> feed, notifications, search.on_post_record, posts: the second post's
    indexing. The fan-out job and the mention notification are made again on each
    redelivery of it and of the post after it."""
    from chalicelib.search.dynamodb_adapter import DynamoDBSearchIndex

    author, follower, mentioned = (world.make_account(n) for n in ("author", "fan", "named"))
    world.call("POST", f"/users/{author.user_id}/follow", follower)
    tag = f"fault{uuid.uuid4().hex[:8]}"
    media = [world.make_ready_media(author) for _ in range(3)]
    world.settle()
    fault = fail_twice(
        world.monkeypatch, DynamoDBSearchIndex, "index_post",
        lambda _index, post, *_: "second" in post.caption,
    )  # fmt: skip
    posts = [
        create_post(world.client, author, media_id, f"{word} #{tag} @{mentioned.username}")
        for word, media_id in zip(("first", "second", "third"), media, strict=True)
    ]
    world.settle()
    assert world.feed(follower) == posts[::-1]
    assert world.notices(mentioned, "mention") == [author.user_id] * 3
    tagged = world.call("GET", f"/hashtags/{tag}/posts", follower)["items"]
    assert [post["post_id"] for post in tagged] == posts[::-1]
    assert world.profile(author)["post_count"] == 3
    return fault


def users_stream_case(world: World) -> Fault:
    """users_stream -> feed, search, then follows.on_user_record (the last): three private
    accounts go public; approving the second's pending request fails twice."""
    from chalicelib.follows import repository

    owners = [world.make_account("owner") for _ in range(3)]
    askers = [world.make_account("asker") for _ in range(3)]
    for owner, asker in zip(owners, askers, strict=True):
        world.call("PATCH", "/users/me", owner, {"is_private": True})
        assert world.call("POST", f"/users/{owner.user_id}/follow", asker) == {
            "status": "requested"
        }
    world.settle()
    fault = fail_twice(
        world.monkeypatch, repository, "approve_request",
        lambda request, *_: request.target_id == owners[1].user_id,
    )  # fmt: skip
    for owner in owners:
        world.call("PATCH", "/users/me", owner, {"is_private": False})
    world.settle()
    for owner, asker in zip(owners, askers, strict=True):
        assert world.profile(owner)["follower_count"] == 1
        assert world.profile(asker)["following_count"] == 1
        assert world.call("GET", "/follow-requests", owner)["items"] == []
        assert world.notices(owner, "follow") == [asker.user_id]
        assert world.notices(owner, "follow_request") == []
    return fault


def stories_stream_case(world: World) -> Fault:
    """stories_stream -> stories.on_story_record: queuing the second story's fan-out job."""
    from chalicelib.fanout.queue import SqsFanoutQueue

    viewer = world.make_account("viewer")
    owners = [world.make_account("owner") for _ in range(3)]
    for owner in owners:
        world.call("POST", f"/users/{owner.user_id}/follow", viewer)
    media = {owner.user_id: world.make_ready_media(owner, "story") for owner in owners}
    world.settle()
    fault = fail_twice(
        world.monkeypatch, SqsFanoutQueue, "enqueue",
        lambda _queue, job: job.payload.get("story", {}).get("owner_id") == owners[1].user_id,
    )  # fmt: skip
    stories = {
        owner.user_id: world.call("POST", "/stories", owner, {"media_id": media[owner.user_id]})
        for owner in owners
    }
    world.settle()
    tray = world.call("GET", "/stories/feed?limit=50", viewer)["items"]
    assert sorted((g["user"]["user_id"], len(g["stories"])) for g in tray) == sorted(
        (owner.user_id, 1) for owner in owners
    )
    entries = stored("story_trays_table", "viewer_id", viewer.user_id)
    assert sorted(item["story_id"]["S"] for item in entries) == sorted(
        story["story_id"] for story in stories.values()
    )
    return fault


def fanout_worker_case(world: World) -> Fault:
    """The fan-out worker (SQS): writing the second post's page of followers."""
    from chalicelib.feed import repository

    reader = world.make_account("reader")
    authors = [world.make_account("author") for _ in range(3)]
    for author in authors:
        world.call("POST", f"/users/{author.user_id}/follow", reader)
    media = {author.user_id: world.make_ready_media(author) for author in authors}
    world.settle()
    fault = fail_twice(
        world.monkeypatch, repository, "add_to_feeds",
        lambda recipients, post, *_: post.author_id == authors[1].user_id
        and reader.user_id in recipients,
    )  # fmt: skip
    posts = [create_post(world.client, author, media[author.user_id]) for author in authors]
    world.settle()
    assert world.feed(reader) == posts[::-1]
    entries = stored("feeds_table", "owner_id", reader.user_id)
    assert sorted(item["post_id"]["S"] for item in entries) == sorted(posts)
    return fault


def media_stream_case(world: World) -> Fault:
    """media_stream -> media.on_media_record: deleting the second deleted post's objects."""
    from chalicelib.core.config import get_settings
    from chalicelib.media import storage

    author = world.make_account("author")
    media = [world.make_ready_media(author) for _ in range(3)]
    posts = [create_post(world.client, author, media_id) for media_id in media]
    world.settle()
    bucket = get_settings().media_bucket

    def objects_of(media_id: str) -> list[str]:
        return objects_of_media(boto3.client("s3"), media_id, bucket)

    assert all(objects_of(media_id) for media_id in media)
    fault = fail_twice(
        world.monkeypatch, storage, "delete_objects",
        lambda _bucket, keys: any(media[1] in key for key in keys),
    )  # fmt: skip
    for post_id in posts:
        world.call("DELETE", f"/posts/{post_id}", author)
    world.settle()
    assert [objects_of(media_id) for media_id in media] == [[], [], []]
    return fault


CASES = {
    case.__name__.removesuffix("_case"): case
    for case in (
        likes_stream_case,
        comments_stream_case,
        follows_stream_case,
        posts_stream_case,
        users_stream_case,
        stories_stream_case,
        fanout_worker_case,
        media_stream_case,
    )
}


class TestARecordThatFailsTwiceIsProcessedOnceInEffect:
    def test_every_batch_consumer_has_a_case(self, chalice_app) -> None:  # type: ignore[no-untyped-def]
        from chalice.app import DynamoDBEventConfig, SQSEventConfig

        batch_handlers = {
            source.name
            for source in chalice_app.event_sources
            if isinstance(source, DynamoDBEventConfig | SQSEventConfig)
        }
        assert batch_handlers == set(CASES), "give each stream or queue handler a case"

    @pytest.mark.parametrize("when", [BEFORE, AFTER])
    @pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
    def test_the_end_state_is_one_clean_processing_of_the_whole_batch(
        self, case, when, client, make_account, make_ready_media, plumbing, monkeypatch
    ) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.setitem(_mode, "when", when)
        dead_letters = len(plumbing.dead_letters)
        deliveries = record_deliveries(monkeypatch)
        world = World(client, make_account, make_ready_media, plumbing, monkeypatch)
        fault = case(world)
        if when == BEFORE:
            # A refused write is tried again until it is done.
            assert fault.failures == FAILURES, "the fault never fired: the case tests nothing"
            assert fault.calls > FAILURES, "the failing record was not delivered again"
        else:
            # A write that was done may leave its retry nothing to do (a request approved
            # once is no longer pending), so the seam may not be reached a second time.
            assert fault.failures >= 1, "the fault never fired: the case tests nothing"
        assert len(plumbing.dead_letters) == dead_letters
        handler = case.__name__.removesuffix("_case")
        failed = [d for d in deliveries if d.handler == handler and d.failed]
        assert len(failed) == fault.failures, deliveries
        last_failed = max(i for i, d in enumerate(deliveries) if d.handler == handler and d.failed)
        assert any(d.handler == handler and not d.failed for d in deliveries[last_failed + 1 :]), (
            "the failed record was not delivered again"
        )
        if handler != "fanout_worker":  # one message a batch (app.py): no others to spoil
            # The failures came in batches with other records, which came again with them.
            assert all(delivery.records > delivery.failed for delivery in failed), deliveries
