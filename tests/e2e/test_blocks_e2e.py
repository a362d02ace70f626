"""Blocks as clients see them on `make run`: the blocker's profile, posts, search entry and
direct messages vanish for the blocked, over HTTP and the WebSocket, and come back (without
the follow) on unblocking."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

from tests.e2e.conftest import RunningStack, wait_until
from tests.support import Account


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def feed_ids(stack: RunningStack, reader: Account) -> list[str]:
    return [item["post_id"] for item in ok(stack.call("GET", "/feed", reader))["items"]]


def found_users(stack: RunningStack, viewer: Account, q: str) -> list[str]:
    found = ok(stack.call("GET", "/search", viewer, params={"q": q, "type": "users"}))
    return [item["user_id"] for item in found["items"]]


def send(stack: RunningStack, sender: Account, to: Account, text: str, client_id: str) -> Any:
    body = {"to": to.user_id, "text": text, "client_id": client_id}
    return stack.call("POST", "/messages", sender, json=body)


def send_over_websocket(stack: RunningStack, sender: Account, frame: dict[str, Any]) -> dict:
    async def exchange() -> dict[str, Any]:
        url = f"{stack.ws_url}/?token={sender.token}"
        async with websockets.connect(url, open_timeout=10) as socket:
            await socket.send(json.dumps(frame))
            return json.loads(await asyncio.wait_for(socket.recv(), timeout=10))

    return asyncio.run(exchange())


def test_a_block_hides_the_blockers_profile_posts_and_messages_from_the_blocked(
    local_stack: RunningStack,
) -> None:
    stack = local_stack
    blocker, blocked, stranger = stack.sign_up("blocker"), stack.sign_up("blocked"), stack.sign_up()
    ok(stack.call("POST", f"/users/{blocker.user_id}/follow", blocked))
    post_id = stack.post_photo(blocker, "before the block")
    wait_until(lambda: feed_ids(stack, blocked) == [post_id])
    sent = ok(send(stack, blocked, blocker, "hello", "before-1"), 201)
    wait_until(lambda: found_users(stack, stranger, blocker.username) == [blocker.user_id])

    assert ok(stack.call("POST", f"/users/{blocked.user_id}/block", blocker)) == {
        "status": "blocked"
    }

    for path in (
        f"/users/{blocker.user_id}",
        f"/users/by-username/{blocker.username}",
        f"/users/{blocker.user_id}/posts",
        f"/posts/{post_id}",
    ):
        assert stack.call("GET", path, blocked).status_code == 404, path
    assert stack.call("GET", f"/posts/{post_id}", stranger).status_code == 200
    assert feed_ids(stack, blocked) == []
    assert found_users(stack, blocked, blocker.username) == []
    assert stack.call("POST", f"/users/{blocker.user_id}/follow", blocked).status_code == 404
    assert send(stack, blocked, blocker, "still there?", "after-1").status_code == 404
    error = send_over_websocket(
        stack,
        blocked,
        {"action": "send", "to": blocker.user_id, "text": "hello?", "client_id": "after-2"},
    )
    assert (error["type"], error["code"], error["client_id"]) == (
        "error",
        "NotFoundError",
        "after-2",
    )
    history = ok(stack.call("GET", f"/conversations/{sent['conversation_id']}/messages", blocker))
    assert [message["text"] for message in history["items"]] == ["hello"]
    # The blocker still sees the blocked account, marked as blocked, with the follow gone.
    seen = ok(stack.call("GET", f"/users/{blocked.user_id}", blocker))
    assert (seen["blocked_by_me"], seen["follows_me"]) == (True, False)
    assert ok(stack.call("GET", "/users/me", blocker))["follower_count"] == 0

    ok(stack.call("DELETE", f"/users/{blocked.user_id}/block", blocker), 204)
    profile = ok(stack.call("GET", f"/users/{blocker.user_id}", blocked))
    assert (profile["user_id"], profile["followed_by_me"]) == (blocker.user_id, False)
    assert ok(stack.call("GET", f"/posts/{post_id}", blocked))["post_id"] == post_id
    assert found_users(stack, blocked, blocker.username) == [blocker.user_id]
    assert feed_ids(stack, blocked) == []  # unblocking does not follow again
