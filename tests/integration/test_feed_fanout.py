"""Fan-out and feed reads driven directly (no stream pollers running), so request counts
measured here are the feed's alone."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

from chalice.test import Client

from tests.support import Account, DynamoDBCallCounter, create_post


class RecordingQueue:
    """The fan-out queue, in memory: jobs run when the test says so."""

    def __init__(self) -> None:
        self.jobs: list = []

    def enqueue(self, job) -> None:  # type: ignore[no-untyped-def]
        self.jobs.append(job)

    def drain(self) -> list[int]:
        from chalicelib.fanout import worker

        pages = []
        while self.jobs:
            pages.append(worker.run_job(self.jobs.pop(0), self))
        return pages


def test_fanning_out_to_n_followers_costs_one_batch_write_per_25(make_account) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.feed import fanout
    from chalicelib.follows import service as follows
    from chalicelib.posts.domain import PostRef

    author = make_account("author")
    followers = [make_account("f") for _ in range(30)]
    for follower in followers:
        follows.follow(follower.user_id, author.user_id)
    queue = RecordingQueue()
    ref = PostRef("2026-11-20T10:00:00.000Z", "fanout-cost-post", author.user_id)

    with DynamoDBCallCounter() as counter:
        fanout.on_post_created(ref, queue)
        assert queue.drain() == [30]
    recipients = len(followers) + 1  # the author's own feed too
    assert counter.count("BatchWriteItem") == math.ceil(recipients / 25)


def test_a_big_fan_out_is_split_into_bounded_pages(make_account, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings
    from chalicelib.feed import fanout
    from chalicelib.feed import repository as feeds
    from chalicelib.follows import service as follows
    from chalicelib.posts.domain import PostRef

    author = make_account("author")
    followers = [make_account("f") for _ in range(13)]
    for follower in followers:
        follows.follow(follower.user_id, author.user_id)
    monkeypatch.setenv("FANOUT_PAGE_SIZE", "5")
    get_settings.cache_clear()
    queue = RecordingQueue()
    ref = PostRef("2026-11-20T10:00:00.000Z", "paged-post", author.user_id)
    try:
        fanout.on_post_created(ref, queue)
        assert queue.drain() == [5, 5, 3]
    finally:
        monkeypatch.delenv("FANOUT_PAGE_SIZE")
        get_settings.cache_clear()
    for reader in [*followers, author]:
        assert [r.post_id for r in feeds.newest_entries(reader.user_id, None, 5)] == ["paged-post"]


def test_unprocessed_items_are_retried_until_written(make_account) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.feed import repository as feeds
    from chalicelib.posts.domain import PostRef

    readers = [f"reader-{i}" for i in range(20)]
    ref = PostRef("2026-11-20T10:00:00.000Z", "throttled-post", "someone")
    client = feeds.FeedEntryItem._get_connection().connection.client
    throttled = {"left": 2}

    def throttle(model, params, **kwargs):  # type: ignore[no-untyped-def]
        if throttled["left"] == 0:
            return None
        throttled["left"] -= 1
        request = json.loads(params["body"])["RequestItems"]
        table, writes = next(iter(request.items()))
        # DynamoDB accepted none of them: all come back as unprocessed.
        parsed = {"UnprocessedItems": {table: writes}, "ResponseMetadata": {"HTTPStatusCode": 200}}
        return SimpleNamespace(status_code=200, headers={}, text="", content=b""), parsed

    client.meta.events.register("before-call.dynamodb.BatchWriteItem", throttle)
    try:
        assert feeds.add_to_feeds(readers, ref, ttl_days=1) == 20
    finally:
        client.meta.events.unregister("before-call.dynamodb.BatchWriteItem", throttle)
    assert throttled["left"] == 0
    for reader in readers:
        assert [r.post_id for r in feeds.newest_entries(reader, None, 5)] == ["throttled-post"]


def test_a_feed_page_costs_the_same_requests_however_many_accounts_are_followed(
    client: Client,
    make_account,
    make_ready_media,  # type: ignore[no-untyped-def]
) -> None:
    from chalicelib.core.pagination import PageRequest
    from chalicelib.feed import fanout, service
    from chalicelib.follows import service as follows
    from chalicelib.users import repository as users

    queue = RecordingQueue()
    celebrities = [make_account("celeb") for _ in range(3)]
    for celebrity in celebrities:
        users.mark_celebrity(celebrity.user_id)
        create_post(client, celebrity, make_ready_media(celebrity))

    def reader_following(count: int) -> Account:
        reader = make_account("reader")
        for celebrity in celebrities:
            follows.follow(reader.user_id, celebrity.user_id)
            fanout.on_followed(reader.user_id, celebrity.user_id)  # as the stream would
        for _ in range(count):
            followee = make_account("plain")
            follows.follow(reader.user_id, followee.user_id)
        return reader

    costs = []
    for following in (2, 12):
        reader = reader_following(following)
        queue.drain()
        with DynamoDBCallCounter() as counter:
            page = service.read_feed(reader.user_id, PageRequest(limit=20))
        assert len(page.items) == 3
        costs.append((counter.count("Query"), counter.count("BatchGetItem"), len(counter.calls)))
    # one Query on the feed, one for "which celebrities", one per celebrity; one BatchGetItem
    assert costs[0] == costs[1] == (1 + 1 + 3, 1, 1 + 1 + 3 + 1)
