"""Per-user write limits: each limited write charges a counter in its own transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from chalice.test import Client, HTTPResponse

from tests.support import Account, create_post, open_connection, send_frame


@pytest.fixture
def set_limits(monkeypatch) -> Iterator[Callable[[str], None]]:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import reload_settings

    def apply(spec: str) -> None:
        monkeypatch.setenv("RATE_LIMITS", spec)
        reload_settings()

    yield apply
    monkeypatch.delenv("RATE_LIMITS", raising=False)
    reload_settings()


def _send(
    client: Client, sender: Account, to: Account, client_id: str | None = None
) -> HTTPResponse:
    body = {"to": to.user_id, "text": "hi", "client_id": client_id or str(uuid.uuid4())}
    return client.http.post("/messages", headers=sender.auth, body=json.dumps(body))


def _assert_limited(response: HTTPResponse, window_seconds: int) -> None:
    assert response.status_code == 429, response.body
    assert response.json_body["Code"] == "TooManyRequestsError"
    assert 1 <= int(response.headers["Retry-After"]) <= window_seconds


def test_messages_past_the_limit_get_429_with_retry_after_and_store_nothing(
    client: Client, make_account, set_limits
) -> None:  # type: ignore[no-untyped-def]
    set_limits("messages=3/86400")
    alice, bob = make_account("alice"), make_account("bob")
    sent = [_send(client, alice, bob, f"c{n}") for n in range(3)]
    assert [r.status_code for r in sent] == [201, 201, 201]

    refused = _send(client, alice, bob, "c3")

    _assert_limited(refused, 86400)
    conversation_id = sent[0].json_body["conversation_id"]
    history = client.http.get(f"/conversations/{conversation_id}/messages", headers=bob.auth)
    assert [m["seq"] for m in history.json_body["items"]] == [1, 2, 3]
    # A retry of a message that was stored is not a new write: it still answers.
    assert _send(client, alice, bob, "c2").json_body == sent[2].json_body
    # The limit is the sender's: bob can still answer.
    assert _send(client, bob, alice).status_code == 201


def test_a_refused_write_does_not_use_up_the_limit(
    client: Client, make_account, set_limits
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings
    from chalicelib.limits import repository
    from chalicelib.limits.domain import Action, window_for

    set_limits("messages=2/86400")
    alice = make_account("alice")
    nobody = Account("no-such-user", "nobody", "", "")
    assert _send(client, alice, nobody).status_code == 404

    window = window_for(Action.MESSAGES, get_settings().rate_limits, datetime.now(UTC))
    assert repository.used(alice.user_id, window) == 0


def test_a_bad_limit_setting_fails_at_start_up(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import Settings
    from pydantic import ValidationError

    monkeypatch.setenv("RATE_LIMITS", "likes=five/60")
    with pytest.raises(ValidationError):
        Settings()  # type: ignore[call-arg]


def test_uploads_and_stories_past_their_limits_get_429(
    client: Client, make_account, make_ready_media, set_limits
) -> None:  # type: ignore[no-untyped-def]
    set_limits("uploads=2/86400,stories=1/86400")
    author = make_account("author")
    story_media = make_ready_media(author, "story")  # the first upload
    make_ready_media(author)  # the second

    upload = {"content_type": "image/jpeg", "size_bytes": 1000, "purpose": "post"}
    refused = client.http.post("/media/uploads", headers=author.auth, body=json.dumps(upload))
    _assert_limited(refused, 86400)

    first = client.http.post(
        "/stories", headers=author.auth, body=json.dumps({"media_id": story_media})
    )
    assert first.status_code == 201, first.body
    set_limits("uploads=10/86400,stories=1/86400")
    second_media = make_ready_media(author, "story")
    second = client.http.post(
        "/stories", headers=author.auth, body=json.dumps({"media_id": second_media})
    )
    _assert_limited(second, 86400)
    # The refused story left its media unattached: once allowed, the same media posts.
    set_limits("uploads=10/86400,stories=2/86400")
    again = client.http.post(
        "/stories", headers=author.auth, body=json.dumps({"media_id": second_media})
    )
    assert again.status_code == 201, again.body


def test_a_send_frame_past_the_limit_gets_an_error_frame_with_retry_after(
    chalice_app, make_account, set_limits, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    set_limits("messages=1/86400")
    alice, bob = make_account("alice"), make_account("bob")
    phone = open_connection(alice, "phone")

    for client_id in ("f1", "f2"):
        send_frame(chalice_app, phone, {"action": "send", "to": bob.user_id, "text": "hi", "client_id": client_id})  # fmt: skip

    ack, refusal = websocket_api.to(phone)
    assert ack["type"] == "ack"
    assert (refusal["type"], refusal["code"], refusal["client_id"]) == (
        "error", "TooManyRequestsError", "f2",
    )  # fmt: skip
    assert 1 <= refusal["retry_after"] <= 86400


def test_posts_likes_and_comments_past_their_limits_get_429(
    client: Client, make_account, make_ready_media, set_limits
) -> None:  # type: ignore[no-untyped-def]
    author, fan = make_account("author"), make_account("fan")
    # Windows are aligned to the epoch: a day's is the one a slow run does not cross.
    set_limits("posts=1/86400,likes=1/86400,comments=1/86400")
    first = create_post(client, author, make_ready_media(author))
    media_id = make_ready_media(author)
    refused = client.http.post(
        "/posts", headers=author.auth, body=json.dumps({"media_ids": [media_id]})
    )
    _assert_limited(refused, 86400)
    set_limits("posts=2/86400,likes=1/86400,comments=1/86400")
    second = create_post(client, author, media_id)  # the refused post left the media free

    assert client.http.post(f"/posts/{first}/like", headers=fan.auth).status_code == 200
    _assert_limited(client.http.post(f"/posts/{second}/like", headers=fan.auth), 86400)
    # Liking again what is liked changes nothing, so it is not refused.
    again = client.http.post(f"/posts/{first}/like", headers=fan.auth)
    assert (again.status_code, again.json_body["like_count"]) == (200, 1)
    assert client.http.get(f"/posts/{second}", headers=fan.auth).json_body["like_count"] == 0

    comment = json.dumps({"text": "nice"})
    assert client.http.post(f"/posts/{first}/comments", headers=fan.auth, body=comment).status_code == 201  # fmt: skip
    _assert_limited(client.http.post(f"/posts/{second}/comments", headers=fan.auth, body=comment), 86400)  # fmt: skip
    assert client.http.get(f"/posts/{second}", headers=fan.auth).json_body["comment_count"] == 0


def test_follows_and_follow_requests_share_the_follow_limit(
    client: Client, make_account, set_limits
) -> None:  # type: ignore[no-untyped-def]
    fan, public, private, other = (make_account(n) for n in ("fan", "pub", "priv", "other"))
    client.http.patch("/users/me", headers=private.auth, body=json.dumps({"is_private": True}))
    set_limits("follows=2/86400")

    assert client.http.post(f"/users/{public.user_id}/follow", headers=fan.auth).json_body == {
        "status": "following"
    }
    asked = client.http.post(f"/users/{private.user_id}/follow", headers=fan.auth)
    assert asked.json_body == {"status": "requested"}

    _assert_limited(client.http.post(f"/users/{other.user_id}/follow", headers=fan.auth), 86400)
    # Following again whom you follow is not a new follow.
    again = client.http.post(f"/users/{public.user_id}/follow", headers=fan.auth)
    assert again.json_body == {"status": "following"}
    profile = client.http.get(f"/users/{other.user_id}", headers=fan.auth).json_body
    assert (profile["followed_by_me"], profile["follower_count"]) == (False, 0)


def test_limited_writes_say_their_limit_what_is_left_and_when_it_resets(
    client: Client, make_account, make_ready_media, set_limits
) -> None:  # type: ignore[no-untyped-def]
    set_limits("likes=2/86400")
    author, fan, other_fan = make_account("author"), make_account("fan"), make_account("other")
    posts = [create_post(client, author, make_ready_media(author)) for _ in range(3)]
    reset = str((int(datetime.now(UTC).timestamp()) // 86400 + 1) * 86400)

    def like(account: Account, post_id: str) -> tuple[int, str, str, str]:
        response = client.http.post(f"/posts/{post_id}/like", headers=account.auth)
        headers = response.headers
        limit, left = headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"]
        return response.status_code, limit, left, headers["X-RateLimit-Reset"]

    assert like(fan, posts[0]) == (200, "2", "1", reset)
    assert like(fan, posts[0]) == (200, "2", "1", reset)  # liking twice counts once
    assert like(fan, posts[1]) == (200, "2", "0", reset)
    assert like(other_fan, posts[0]) == (200, "2", "1", reset)  # each user's own limit
    assert like(fan, posts[2]) == (429, "2", "0", reset)
    read = client.http.get(f"/posts/{posts[0]}", headers=fan.auth)
    assert read.status_code == 200
    assert "X-RateLimit-Limit" not in read.headers  # reads are not limited
