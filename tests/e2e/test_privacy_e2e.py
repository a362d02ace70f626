"""Private accounts as a client sees them on `make run`: asking to follow, being kept out,
being approved, and an account going public."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import requests
import websockets

from tests.e2e.conftest import RunningStack, wait_until
from tests.support import Account


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def notices(stack: RunningStack, account: Account) -> list[tuple[str, str]]:
    items = ok(stack.call("GET", "/notifications", account))["items"]
    return [(item["type"], item["actor"]["user_id"]) for item in items]


def feed_ids(stack: RunningStack, reader: Account) -> list[str]:
    return [item["post_id"] for item in ok(stack.call("GET", "/feed", reader))["items"]]


def test_a_requester_is_kept_out_until_approved_then_sees_the_posts(
    local_stack: RunningStack,
) -> None:
    stack = local_stack
    owner, fan = stack.sign_up("priv"), stack.sign_up("fan")
    ok(stack.call("PATCH", "/users/me", owner, json={"is_private": True}))
    post_id = stack.post_photo(owner, "just for friends")

    assert ok(stack.call("POST", f"/users/{owner.user_id}/follow", fan)) == {"status": "requested"}
    assert notices(stack, owner) == [("follow_request", fan.user_id)]
    seen = ok(stack.call("GET", f"/users/{owner.user_id}", fan))
    assert (seen["username"], seen["post_count"]) == (owner.username, 1)
    assert (seen["followed_by_me"], seen["follow_requested_by_me"]) == (False, True)
    for path in (f"/users/{owner.user_id}/posts", f"/posts/{post_id}",
                 f"/users/{owner.user_id}/followers", f"/users/{owner.user_id}/stories"):  # fmt: skip
        assert stack.call("GET", path, fan).status_code == 403, path

    listed = ok(stack.call("GET", "/follow-requests", owner))
    assert [item["user_id"] for item in listed["items"]] == [fan.user_id]
    ok(stack.call("POST", f"/follow-requests/{fan.user_id}/approve", owner))

    posts = ok(stack.call("GET", f"/users/{owner.user_id}/posts", fan))
    assert [item["post_id"] for item in posts["items"]] == [post_id]
    assert ok(stack.call("GET", f"/posts/{post_id}", fan))["post_id"] == post_id
    followers = ok(stack.call("GET", f"/users/{owner.user_id}/followers", fan))
    assert [item["user_id"] for item in followers["items"]] == [fan.user_id]
    assert ok(stack.call("GET", "/follow-requests", owner))["items"] == []
    # Stream-driven: the approved follow backfills the feed and notifies as a follow.
    wait_until(lambda: feed_ids(stack, fan) == [post_id], timeout=10)
    wait_until(lambda: notices(stack, owner) == [("follow", fan.user_id)], timeout=10)


def test_a_request_is_pushed_to_the_private_accounts_open_websocket(
    local_stack: RunningStack,
) -> None:
    stack = local_stack
    owner, fan = stack.sign_up("priv"), stack.sign_up("fan")
    ok(stack.call("PATCH", "/users/me", owner, json={"is_private": True}))

    async def ask_while_connected() -> dict[str, Any]:
        async with websockets.connect(f"{stack.ws_url}/?token={owner.token}") as socket:
            asked = await asyncio.to_thread(
                requests.post,
                f"{stack.api_url}/users/{owner.user_id}/follow",
                headers={"Authorization": f"Bearer {fan.token}"},
                timeout=10,
            )
            assert asked.json() == {"status": "requested"}, asked.text
            return json.loads(await asyncio.wait_for(socket.recv(), timeout=10))

    pushed = asyncio.run(ask_while_connected())

    assert pushed["type"] == "notification"
    assert pushed["notification"]["type"] == "follow_request"
    assert pushed["notification"]["actor"]["user_id"] == fan.user_id
    assert ok(stack.call("GET", "/notifications", owner))["items"] == [pushed["notification"]]


def test_declining_keeps_the_requester_out(local_stack: RunningStack) -> None:
    stack = local_stack
    owner, fan = stack.sign_up("priv"), stack.sign_up("fan")
    ok(stack.call("PATCH", "/users/me", owner, json={"is_private": True}))
    ok(stack.call("POST", f"/users/{owner.user_id}/follow", fan))

    ok(stack.call("DELETE", f"/follow-requests/{fan.user_id}", owner), 204)

    assert notices(stack, owner) == []
    assert stack.call("GET", f"/users/{owner.user_id}/posts", fan).status_code == 403
    assert stack.call("POST", f"/follow-requests/{fan.user_id}/approve", owner).status_code == 404


def test_going_public_approves_the_pending_requests(local_stack: RunningStack) -> None:
    stack = local_stack
    owner = stack.sign_up("priv")
    fans = [stack.sign_up("fan") for _ in range(2)]
    ok(stack.call("PATCH", "/users/me", owner, json={"is_private": True}))
    for fan in fans:
        ok(stack.call("POST", f"/users/{owner.user_id}/follow", fan))

    ok(stack.call("PATCH", "/users/me", owner, json={"is_private": False}))

    wait_until(lambda: ok(stack.call("GET", "/users/me", owner))["follower_count"] == 2)
    assert ok(stack.call("GET", "/follow-requests", owner))["items"] == []
    for fan in fans:
        seen = ok(stack.call("GET", f"/users/{owner.user_id}", fan))
        assert (seen["followed_by_me"], seen["follow_requested_by_me"]) == (True, False)
