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


def test_a_saved_list_cursor_replayed_by_another_user_is_400(local_stack: RunningStack) -> None:
    stack = local_stack
    author, saver, other = (stack.sign_up(name) for name in ("author", "saver", "other"))
    for post_id in (stack.post_photo(author), stack.post_photo(author)):
        assert stack.call("POST", f"/posts/{post_id}/save", saver).status_code == 200
    cursor = stack.call("GET", "/saved?limit=1", saver).json()["next_cursor"]
    assert cursor

    replayed = stack.call("GET", f"/saved?limit=1&cursor={cursor}", other)
    assert replayed.status_code == 400, replayed.text
    assert replayed.json()["Code"] == "BadRequestError"
    assert stack.call("GET", f"/saved?limit=1&cursor={cursor}", saver).status_code == 200


def test_over_long_and_odd_ids_in_paths_are_4xx_and_change_nothing(
    local_stack: RunningStack,
) -> None:
    stack = local_stack
    account = stack.sign_up("ids")
    odd_ids = ["x" * 2100, "\u00e9" * 700, "a%2Fb", "%2e%2e", "a%00b", "\u202e"]
    for odd in odd_ids:
        for method, path in (
            ("POST", f"/users/{odd}/block"),
            ("POST", f"/users/{odd}/follow"),
            ("GET", f"/users/{odd}"),
            ("GET", f"/posts/{odd}/comments"),
            ("POST", f"/stories/{odd}/view"),
            ("GET", f"/conversations/{odd}/messages"),
        ):
            answer = stack.call(method, path, account)
            assert 400 <= answer.status_code < 500, (method, path[:40], answer.status_code)
    assert stack.call("GET", "/blocks", account).json()["items"] == []
    assert stack.call("GET", "/users/me", account).json()["following_count"] == 0
    # The over-long body id is refused too, before anything is read.
    sent = stack.call(
        "POST", "/messages", account, json={"to": "x" * 2100, "text": "hi", "client_id": "c"}
    )
    assert sent.status_code == 400, sent.text


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
