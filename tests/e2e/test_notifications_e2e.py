"""A notification's trip through the local stack: a follow over HTTP, the follows stream, the
notifications consumer, a push to the followee's open WebSocket, and the list over HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import requests
import websockets

from tests.e2e.conftest import RunningStack


def test_a_follow_reaches_the_followees_open_websocket_and_their_list(
    local_stack: RunningStack,
) -> None:
    follower, followee = local_stack.sign_up("follower"), local_stack.sign_up("followee")

    async def follow_while_connected() -> dict[str, Any]:
        url = f"{local_stack.ws_url}/?token={followee.token}"
        async with websockets.connect(url, open_timeout=10) as socket:
            followed = await asyncio.to_thread(
                requests.post,
                f"{local_stack.api_url}/users/{followee.user_id}/follow",
                headers={"Authorization": f"Bearer {follower.token}"},
                timeout=10,
            )
            assert followed.status_code == 200, followed.text
            # The stream's batching window is a second; the push follows the stored item.
            return json.loads(await asyncio.wait_for(socket.recv(), timeout=20))

    pushed = asyncio.run(follow_while_connected())

    assert pushed["type"] == "notification"
    notification = pushed["notification"]
    assert notification["type"] == "follow"
    assert notification["actor"]["user_id"] == follower.user_id
    assert notification["read"] is False
    listed = requests.get(
        f"{local_stack.api_url}/notifications",
        headers={"Authorization": f"Bearer {followee.token}"},
        timeout=10,
    ).json()
    assert listed["items"] == [notification]
