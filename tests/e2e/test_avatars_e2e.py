"""Avatars as a client sees them on `make run`: uploaded with purpose "avatar", set with
PATCH /users/me, then shown on the profile, on a post's author in a follower's feed and in
user search, each URL fetchable as it is."""

from __future__ import annotations

from typing import Any

import requests

from tests.e2e.conftest import RunningStack, wait_until
from tests.support import Account, unsigned


def items(stack: RunningStack, account: Account, path: str) -> list[dict[str, Any]]:
    response = stack.call("GET", path, account)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_set_avatar_is_shown_on_the_profile_in_a_followers_feed_and_in_search(
    local_stack: RunningStack,
) -> None:
    stack = local_stack
    author, follower = stack.sign_up("face"), stack.sign_up("fan")
    media_id = stack.upload_photo(author, purpose="avatar")
    set_avatar = stack.call("PATCH", "/users/me", author, json={"avatar_media_id": media_id})
    assert set_avatar.status_code == 200, set_avatar.text
    avatar = set_avatar.json()["avatar"]
    assert avatar["media_id"] == media_id
    assert {"thumb", "small"} <= set(avatar["renditions"])
    for rendition in ("thumb", "small"):
        fetched = requests.get(avatar["renditions"][rendition]["url"], timeout=10)
        assert fetched.status_code == 200, fetched.text
        assert fetched.headers["Content-Type"] == "image/jpeg"

    profile = stack.call("GET", f"/users/{author.user_id}", follower)
    assert profile.status_code == 200, profile.text
    assert unsigned(profile.json()["avatar"]) == unsigned(avatar)

    assert stack.call("POST", f"/users/{author.user_id}/follow", follower).status_code == 200
    post_id = stack.post_photo(author, "new face")

    def post_in_feed() -> dict[str, Any] | None:
        found = [p for p in items(stack, follower, "/feed") if p["post_id"] == post_id]
        return found[0] if found else None

    in_feed = wait_until(post_in_feed, timeout=5)
    assert unsigned(in_feed["author"]["avatar"]) == unsigned(avatar)

    def author_in_search() -> dict[str, Any] | None:
        found = items(stack, follower, f"/search?type=users&q={author.username}")
        return next((u for u in found if u["user_id"] == author.user_id), None)

    found = wait_until(author_in_search, timeout=5)
    assert unsigned(found["avatar"]) == unsigned(avatar)
