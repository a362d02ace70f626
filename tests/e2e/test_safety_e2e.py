"""Saved posts, reports and rate limits as a client sees them on `make run`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import RunningStack, start_stack, stop_stack


def test_save_and_unsave_a_post(local_stack: RunningStack) -> None:
    stack = local_stack
    author, saver = stack.sign_up("author"), stack.sign_up("saver")
    post_id = stack.post_photo(author, "worth keeping")

    saved = stack.call("POST", f"/posts/{post_id}/save", saver)
    assert (saved.status_code, saved.json()) == (200, {"saved": True})
    listed = stack.call("GET", "/saved", saver).json()
    assert [post["post_id"] for post in listed["items"]] == [post_id]
    assert listed["items"][0]["caption"] == "worth keeping"

    assert stack.call("DELETE", f"/posts/{post_id}/save", saver).status_code == 204
    assert stack.call("GET", "/saved", saver).json()["items"] == []


def test_a_report_is_accepted_for_moderators(local_stack: RunningStack) -> None:
    stack = local_stack
    author, reporter = stack.sign_up("author"), stack.sign_up("reporter")
    post_id = stack.post_photo(author, "buy followers here")

    report = {"target_type": "post", "target_id": post_id, "reason": "spam"}
    accepted = stack.call("POST", "/reports", reporter, json=report)

    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "received" and accepted.json()["report_id"]
    assert stack.call("POST", "/reports", reporter, json=report).json() == accepted.json()


@pytest.fixture(scope="module")
def limited_stack() -> Iterator[RunningStack]:
    """A stack of its own, with a like limit a test can reach."""
    stack = start_stack({"RATE_LIMITS": "likes=2/3600"})
    yield stack
    assert stop_stack(stack) == 0, "\n".join(stack.output[-40:])


def test_going_past_a_limit_answers_429_with_retry_after(limited_stack: RunningStack) -> None:
    stack = limited_stack
    author, fan = stack.sign_up("author"), stack.sign_up("fan")
    posts = [stack.post_photo(author) for _ in range(3)]

    answers = [stack.call("POST", f"/posts/{post_id}/like", fan) for post_id in posts]

    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[2]
    assert refused.json()["Code"] == "TooManyRequestsError"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert stack.call("GET", f"/posts/{posts[2]}", fan).json()["like_count"] == 0
