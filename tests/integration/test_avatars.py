"""Avatars through the real routes, the real resize function and the streams, against moto.

An own ready photo uploaded with purpose ``avatar`` becomes the avatar with ``PATCH
/users/me``; the user item keeps the photo, so every place a user is rendered shows it
with no extra read. Replacing or removing an avatar releases the old photo, which then
expires like any unattached upload.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from chalice.test import Client

from local.event_plumbing import EventPlumbing
from tests.support import Account, create_post, unsigned


@pytest.fixture
def plumbing(chalice_app) -> Iterator[EventPlumbing]:  # type: ignore[no-untyped-def]
    with EventPlumbing(chalice_app, fire_schedules_on_timer=False) as running:
        assert running.wait_until_idle(timeout=60), "earlier stream records still pending"
        yield running


def set_avatar(client: Client, account: Account, media_id: str | None) -> Any:
    return client.http.patch(
        "/users/me", headers=account.auth, body=json.dumps({"avatar_media_id": media_id})
    )


def get_ok(client: Client, path: str, account: Account) -> Any:
    response = client.http.get(path, headers=account.auth)
    assert response.status_code == 200, (path, response.body)
    return response.json_body


def media_item(media_id: str) -> dict[str, Any]:
    from chalicelib.core.config import get_settings

    found = boto3.client("dynamodb").get_item(
        TableName=get_settings().media_table,
        Key={"media_id": {"S": media_id}},
        ConsistentRead=True,
    )
    return found.get("Item", {})


def test_an_own_ready_avatar_photo_is_shown_wherever_the_user_appears(
    plumbing: EventPlumbing, client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    # Given Ava with an avatar, and Finn who follows her
    ava, finn = make_account("ava" + uuid.uuid4().hex[:6]), make_account("finn")
    media_id = make_ready_media(ava, "avatar")
    patched = set_avatar(client, ava, media_id)
    assert patched.status_code == 200, patched.body
    avatar = patched.json_body["avatar"]
    assert avatar["media_id"] == media_id
    assert {"thumb", "small"} <= set(avatar["renditions"])
    photo = get_ok(client, f"/media/{media_id}", ava)
    assert (avatar["width"], avatar["height"]) == (photo["width"], photo["height"])
    assert unsigned(avatar["renditions"]) == unsigned(photo["renditions"])
    shown = unsigned(avatar)

    assert client.http.post(f"/users/{ava.user_id}/follow", headers=finn.auth).status_code == 200
    post_id = create_post(client, ava, make_ready_media(ava), "with my face on it")
    comment = client.http.post(
        f"/posts/{post_id}/comments", headers=ava.auth, body=json.dumps({"text": "me again"})
    )
    assert comment.status_code == 201, comment.body
    story = client.http.post(
        "/stories", headers=ava.auth, body=json.dumps({"media_id": make_ready_media(ava, "story")})
    )
    assert story.status_code == 201, story.body
    sent = client.http.post(
        "/messages",
        headers=ava.auth,
        body=json.dumps({"to": finn.user_id, "text": "hi", "client_id": str(uuid.uuid4())}),
    )
    assert sent.status_code == 201, sent.body
    liked = client.http.post(f"/posts/{create_post(client, finn, make_ready_media(finn))}/like",
                             headers=ava.auth)  # fmt: skip
    assert liked.status_code == 200, liked.body
    assert plumbing.wait_until_idle(timeout=60)

    # Then every rendering of Ava carries the same photo
    def avatar_in(body: Any) -> Any:
        return unsigned(body["avatar"])

    assert avatar_in(get_ok(client, "/users/me", ava)) == shown
    assert avatar_in(get_ok(client, f"/users/{ava.user_id}", finn)) == shown
    assert avatar_in(get_ok(client, f"/users/by-username/{ava.username}", finn)) == shown
    [in_feed] = [p for p in get_ok(client, "/feed", finn)["items"] if p["post_id"] == post_id]
    assert avatar_in(in_feed["author"]) == shown
    assert avatar_in(get_ok(client, f"/posts/{post_id}", finn)["author"]) == shown
    [said] = get_ok(client, f"/posts/{post_id}/comments", finn)["items"]
    assert avatar_in(said["author"]) == shown
    [listed] = get_ok(client, f"/users/{finn.user_id}/following", finn)["items"]
    assert listed["user_id"] == ava.user_id and avatar_in(listed) == shown
    [group] = get_ok(client, "/stories/feed", finn)["items"]
    assert avatar_in(group["user"]) == shown
    [conversation] = get_ok(client, "/conversations", finn)["items"]
    assert avatar_in(conversation["other_user"]) == shown
    [notification] = get_ok(client, "/notifications", finn)["items"]
    assert notification["type"] == "like" and avatar_in(notification["actor"]) == shown
    [found] = get_ok(client, f"/search?q={ava.username}&type=users", finn)["items"]
    assert avatar_in(found) == shown
    # And its URLs are fetchable as they are
    import requests

    fetched = requests.get(avatar["renditions"]["thumb"]["url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/jpeg"


def test_replacing_an_avatar_releases_the_old_photo_and_null_removes_it(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    ava = make_account("ava")
    first, second = make_ready_media(ava, "avatar"), make_ready_media(ava, "avatar")
    assert set_avatar(client, ava, first).status_code == 200
    # An avatar's photo no longer expires as an unattached upload does
    assert "expires_at" not in media_item(first)
    assert media_item(first)["avatar_of"] == {"S": ava.user_id}

    replaced = set_avatar(client, ava, second)
    assert replaced.status_code == 200, replaced.body
    assert replaced.json_body["avatar"]["media_id"] == second
    # The old photo is released: its item is gone (the media stream deletes its files)
    assert media_item(first) == {}
    assert client.http.get(f"/media/{first}", headers=ava.auth).status_code == 404
    assert "expires_at" not in media_item(second)

    # Setting the avatar it already has changes nothing
    again = set_avatar(client, ava, second)
    assert again.status_code == 200
    assert again.json_body["avatar"]["media_id"] == second

    removed = set_avatar(client, ava, None)
    assert removed.status_code == 200, removed.body
    assert removed.json_body["avatar"] is None
    assert get_ok(client, "/users/me", ava)["avatar"] is None
    assert media_item(second) == {}
    assert client.http.get(f"/media/{second}", headers=ava.auth).status_code == 404
    # Removing an avatar you do not have is fine too
    assert set_avatar(client, ava, None).status_code == 200


def test_a_released_avatar_photo_cannot_be_set_again(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    ava = make_account("ava")
    first = make_ready_media(ava, "avatar")
    assert set_avatar(client, ava, first).status_code == 200
    assert set_avatar(client, ava, make_ready_media(ava, "avatar")).status_code == 200
    assert set_avatar(client, ava, first).status_code == 404


def test_other_fields_change_with_the_avatar_in_one_request(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    ava = make_account("ava")
    media_id = make_ready_media(ava, "avatar")
    patched = client.http.patch(
        "/users/me",
        headers=ava.auth,
        body=json.dumps({"avatar_media_id": media_id, "bio": "new face", "is_private": True}),
    )
    assert patched.status_code == 200, patched.body
    me = get_ok(client, "/users/me", ava)
    assert (me["bio"], me["is_private"], me["avatar"]["media_id"]) == ("new face", True, media_id)


@pytest.mark.parametrize(
    ("whose", "purpose", "status"),
    [("theirs", "avatar", 404), ("mine", "post", 409), ("mine", "story", 409)],
)
def test_only_an_own_ready_avatar_photo_can_be_the_avatar(
    client: Client, make_account, make_ready_media, whose: str, purpose: str, status: int
) -> None:  # type: ignore[no-untyped-def]
    ava, other = make_account("ava"), make_account("other")
    media_id = make_ready_media(ava if whose == "mine" else other, purpose)
    before = get_ok(client, "/users/me", ava)

    refused = set_avatar(client, ava, media_id)

    assert refused.status_code == status, refused.body
    assert get_ok(client, "/users/me", ava) == before
    assert "avatar_of" not in media_item(media_id)


def test_an_avatar_photo_still_processing_or_unknown_is_refused(
    client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    ava = make_account("ava")
    pending = client.http.post(
        "/media/uploads",
        headers=ava.auth,
        body=json.dumps({"content_type": "image/jpeg", "size_bytes": 100, "purpose": "avatar"}),
    ).json_body["media_id"]
    assert set_avatar(client, ava, pending).status_code == 409
    assert set_avatar(client, ava, "no-such-media").status_code == 404
    assert get_ok(client, "/users/me", ava)["avatar"] is None
