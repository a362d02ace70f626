"""The feed as a client sees it on `make run`, with the fan-out threshold lowered by the
environment so one test account can be a celebrity."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import RunningStack, start_stack, stop_stack, wait_until
from tests.support import Account

THRESHOLD = 3


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    running = start_stack({"FANOUT_THRESHOLD": str(THRESHOLD)})
    yield running
    assert stop_stack(running) == 0, "\n".join(running.output[-40:])


def feed_ids(stack: RunningStack, reader: Account, query: str = "?limit=50") -> list[str]:
    response = stack.call("GET", f"/feed{query}", reader)
    assert response.status_code == 200, response.text
    return [item["post_id"] for item in response.json()["items"]]


def test_a_post_reaches_a_follower_within_seconds_and_never_a_stranger(stack: RunningStack) -> None:
    author, follower, stranger = stack.sign_up("a"), stack.sign_up("b"), stack.sign_up("c")
    assert stack.call("POST", f"/users/{author.user_id}/follow", follower).status_code == 200
    post_id = stack.post_photo(author, "hello")

    wait_until(lambda: feed_ids(stack, follower) == [post_id], timeout=5)
    assert feed_ids(stack, stranger) == []

    stack.call("DELETE", f"/users/{author.user_id}/follow", follower)
    assert feed_ids(stack, follower) == []  # the very next read
    stack.call("POST", f"/users/{author.user_id}/follow", follower)
    wait_until(lambda: feed_ids(stack, follower) == [post_id], timeout=5)  # backfilled
    assert stack.call("DELETE", f"/posts/{post_id}", author).status_code == 204
    assert feed_ids(stack, follower) == []
    assert feed_ids(stack, stranger) == []


def test_a_celebritys_posts_are_merged_in_time_order(stack: RunningStack) -> None:
    star, regular, reader = stack.sign_up("star"), stack.sign_up("reg"), stack.sign_up("reader")
    fans = [reader] + [stack.sign_up("fan") for _ in range(THRESHOLD - 1)]
    for fan in fans:
        stack.call("POST", f"/users/{star.user_id}/follow", fan)
    stack.call("POST", f"/users/{regular.user_id}/follow", reader)

    posted = [stack.post_photo(author) for author in (regular, star, regular, star)]
    wait_until(lambda: feed_ids(stack, reader) == list(reversed(posted)), timeout=10)


def test_paging_fifty_posts_while_new_ones_arrive(stack: RunningStack) -> None:
    author, reader = stack.sign_up("a"), stack.sign_up("b")
    stack.call("POST", f"/users/{author.user_id}/follow", reader)
    posted = [stack.post_photo(author) for _ in range(50)]
    wait_until(lambda: len(feed_ids(stack, reader)) == 50, timeout=15)

    seen: list[str] = []
    cursor: str | None = None
    for page_number in range(10):
        query = "?limit=10" + (f"&cursor={cursor}" if cursor else "")
        page = stack.call("GET", f"/feed{query}", reader).json()
        seen += [item["post_id"] for item in page["items"]]
        if page_number < 3:
            stack.post_photo(author)  # arrives at the head while we page
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(posted))
