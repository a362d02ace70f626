"""The home feed against moto, in-process: read latency and fan-out throughput.

- Feed read: a reader who follows 1,000 accounts, 20 of them celebrities (merged at read
  time), pages 20 posts. Beside it, a pure-pull baseline that queries every followee's
  recent posts, merges and hydrates the same page: what reading without fan-out costs.
- Fan-out: one post by an author with 10,000 followers, written page by page as the SQS
  worker would (the queue in memory), in followers written per second.

moto is slower per request than DynamoDB and serialises requests, so the figures compare
designs on this machine; AWS latencies are lower and fan-out pages run in parallel there.
Data is written straight into the tables (batch writes), not through the API, so setting up
10,000 followers takes seconds rather than minutes.

Run with ``python -m tests.benchmarks feed``.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from infrastructure.provision import provision
from local.embedded_aws import EmbeddedAws

FOLLOWED = 1_000
CELEBRITIES = 20
POSTS_PER_ACCOUNT = 3
FANOUT_FOLLOWERS = 10_000
FEED_READS = 200
PULL_READS = 3
PAGE = 20
# The seed's 200 ms median / 500 ms p99 is for DynamoDB. moto answers an index Query by
# walking the whole table and serialises requests, so here the goals are the request count
# (constant: feed Query, celebrities Query, one Query per celebrity, one BatchGetItem) and
# the margin over pure pull; the milliseconds are printed for comparison between runs.
REQUESTS_PER_PAGE = 1 + 1 + CELEBRITIES + 1
MIN_SPEEDUP_OVER_PULL = 10


def _configure(aws: EmbeddedAws) -> None:
    aws.export_environment()
    os.environ.update(provision("bench"))
    os.environ.update(
        {
            "CURSOR_SECRET": "bench-cursor-secret-0123456789",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "ShutterBench",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "FANOUT_THRESHOLD": "10000",
        }
    )


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _timed(action: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _requests_of(action: Callable[[], object]) -> int:
    """DynamoDB requests one call of ``action`` makes, counted by botocore hooks."""
    from tests.support import DynamoDBCallCounter

    with DynamoDBCallCounter() as counter:
        action()
    return len(counter.calls)


def _seed_users(user_ids: list[str], celebrity_ids: set[str], now: datetime) -> None:
    from chalicelib.users.repository import UserItem

    with UserItem.batch_write() as batch:
        for user_id in user_ids:
            batch.save(
                UserItem(
                    user_id,
                    username=user_id,
                    created_at=now,
                    follower_count=10_000 if user_id in celebrity_ids else 1,
                    is_celebrity=user_id in celebrity_ids or None,
                )
            )


def _seed_edges(follower_ids: list[str], followee_id: str, celebrity: bool, at: datetime) -> None:
    from chalicelib.core.clock import iso
    from chalicelib.follows.repository import FollowItem

    with FollowItem.batch_write() as batch:
        for index, follower_id in enumerate(follower_ids):
            batch.save(
                FollowItem(
                    follower_id,
                    followee_id,
                    followed_at=iso(at + timedelta(milliseconds=index)),
                    celebrity_follower_id=follower_id if celebrity else None,
                )
            )


def _seed_reader(now: datetime) -> tuple[str, list[str]]:
    """A reader following FOLLOWED accounts with POSTS_PER_ACCOUNT posts each; the
    non-celebrities' posts are in the reader's feed, as fan-out would have left them."""
    from chalicelib.feed import repository as feeds
    from chalicelib.follows.repository import FollowItem
    from chalicelib.media.domain import AttachedMedia
    from chalicelib.posts.domain import Post, PostRef, new_post_id
    from chalicelib.posts.repository import PostItem, _to_item

    reader = "bench-reader"
    followees = [f"bench-author-{i:04d}" for i in range(FOLLOWED)]
    celebrities = set(followees[:: FOLLOWED // CELEBRITIES])
    _seed_users([reader, *followees], celebrities, now)
    with FollowItem.batch_write() as batch:
        for index, followee in enumerate(followees):
            batch.save(
                FollowItem(
                    reader,
                    followee,
                    followed_at=(now + timedelta(milliseconds=index)).isoformat(),
                    celebrity_follower_id=reader if followee in celebrities else None,
                )
            )
    pushed = []
    with PostItem.batch_write() as batch:
        for index, author in enumerate(followees):
            for copy in range(POSTS_PER_ACCOUNT):
                at = now - timedelta(minutes=index * POSTS_PER_ACCOUNT + copy)
                post = Post(
                    post_id=new_post_id(author, at),
                    author_id=author,
                    created_at=at,
                    media=(AttachedMedia("m", 1080, 1080, {}),),
                )
                batch.save(_to_item(post))
                if author not in celebrities:
                    created = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
                    pushed.append(PostRef(created, post.post_id, author))
    for ref in pushed:
        feeds.add_to_feeds([reader], ref, ttl_days=30)
    return reader, followees


def _pure_pull(reader: str, followees: list[str]) -> None:
    """Without fan-out: ask every followee for their newest posts, merge, hydrate a page."""
    import heapq

    from chalicelib.posts import repository as posts
    from chalicelib.posts import service as post_views

    newest = [
        posts.post_refs_by_author(followee, before=None, limit=PAGE) for followee in followees
    ]
    page = list(heapq.merge(*newest, key=lambda ref: ref.entry_key, reverse=True))[:PAGE]
    post_views.hydrate(reader, [ref.post_id for ref in page])


def _fanout_throughput(now: datetime) -> tuple[float, int, int]:
    from chalicelib.fanout import inboxes, worker
    from chalicelib.feed import fanout
    from chalicelib.feed.inboxes import FEED_INBOXES
    from chalicelib.posts.domain import PostRef

    inboxes.register(FEED_INBOXES)  # as app.py does, which this benchmark does not import

    class InMemoryQueue:
        def __init__(self) -> None:
            self.jobs: list = []

        def enqueue(self, job) -> None:  # type: ignore[no-untyped-def]
            self.jobs.append(job)

    author = "bench-big-author"
    followers = [f"bench-follower-{i:05d}" for i in range(FANOUT_FOLLOWERS)]
    _seed_users([author], set(), now)
    _seed_edges(followers, author, celebrity=False, at=now)
    queue = InMemoryQueue()
    ref = PostRef(
        now.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "bench-post", author
    )
    started = time.perf_counter()
    fanout.on_post_created(ref, queue)
    pages = 0
    while queue.jobs:
        worker.run_job(queue.jobs.pop(0), queue)
        pages += 1
    elapsed = time.perf_counter() - started
    return (FANOUT_FOLLOWERS + 1) / elapsed, pages, round(elapsed * 1000)


def run() -> bool:
    import logging

    logging.getLogger("shutter").setLevel(logging.WARNING)
    with EmbeddedAws() as aws:
        _configure(aws)
        from chalicelib.core.pagination import PageRequest
        from chalicelib.feed import service

        now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
        started = time.perf_counter()
        reader, followees = _seed_reader(now)
        seeded = time.perf_counter() - started

        def read_page() -> None:
            page = service.read_feed(reader, PageRequest(limit=PAGE))
            assert len(page.items) == PAGE

        read_page()  # warm: clients and connection pools
        requests = _requests_of(read_page)
        hybrid = _timed(read_page, FEED_READS)
        pull = _timed(lambda: _pure_pull(reader, followees), PULL_READS)
        per_second, pages, fanout_ms = _fanout_throughput(now)

    p50, p99 = statistics.median(hybrid), _percentile(hybrid, 0.99)
    pull_p50, pull_p99 = statistics.median(pull), _percentile(pull, 0.99)
    print(f"\nfeed: reader follows {FOLLOWED} accounts ({CELEBRITIES} celebrities); page of {PAGE}")
    print(f"  seeded {FOLLOWED * POSTS_PER_ACCOUNT} posts and the feed in {seeded:.1f} s")
    print(f"  {'design':<34}{'p50 ms':>10}{'p99 ms':>10}{'runs':>7}")
    print(f"  {'hybrid (feed + celebrity merge)':<34}{p50:>10.1f}{p99:>10.1f}{FEED_READS:>7}")
    print(
        f"  {'pure pull (query every followee)':<34}{pull_p50:>10.1f}{pull_p99:>10.1f}{PULL_READS:>7}"
    )
    print(f"  hybrid is {pull_p50 / p50:.0f}x faster at the median; {requests} requests per page")
    print(
        f"fan-out: {FANOUT_FOLLOWERS} followers in {pages} pages, {fanout_ms} ms: "
        f"{per_second:,.0f} feed entries written per second (one worker, moto)"
    )
    goals = {
        f"a page costs {REQUESTS_PER_PAGE} requests (measured: {requests})": requests
        == REQUESTS_PER_PAGE,
        f"hybrid at least {MIN_SPEEDUP_OVER_PULL}x faster than pure pull": p50
        * MIN_SPEEDUP_OVER_PULL
        <= pull_p50,
    }
    for goal, met in goals.items():
        print(f"  {'PASS' if met else 'FAIL'}  {goal}")
    return all(goals.values())
