"""Blocks through the real routes, against moto.

The event plumbing runs for the whole module, so what the streams drive after a block (the
follows' REMOVE records taking posts out of feeds, search indexing) happens as on the local
stack; tests wait for it with ``wait_until_idle``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from chalice.test import Client

from local.event_plumbing import EventPlumbing
from tests.support import (
    Account,
    DynamoDBCallCounter,
    create_post,
    open_connection,
    send_frame,
)


@pytest.fixture(scope="module", autouse=True)
def plumbing(chalice_app) -> Iterator[EventPlumbing]:  # type: ignore[no-untyped-def]
    with EventPlumbing(chalice_app, fire_schedules_on_timer=False) as running:
        assert running.wait_until_idle(timeout=60)
        yield running


def settle(plumbing: EventPlumbing) -> None:
    assert plumbing.wait_until_idle(timeout=60)


# --- helpers --------------------------------------------------------------------------------


def block(client: Client, blocker: Account, blocked: Account) -> Any:
    return client.http.post(f"/users/{blocked.user_id}/block", headers=blocker.auth)


def unblock(client: Client, blocker: Account, blocked: Account) -> Any:
    return client.http.delete(f"/users/{blocked.user_id}/block", headers=blocker.auth)


def follow(client: Client, follower: Account, followee: Account) -> Any:
    return client.http.post(f"/users/{followee.user_id}/follow", headers=follower.auth)


def get(client: Client, path: str, viewer: Account) -> Any:
    return client.http.get(path, headers=viewer.auth)


def me(client: Client, account: Account) -> dict[str, Any]:
    return get(client, "/users/me", account).json_body


def set_private(client: Client, account: Account) -> None:
    body = json.dumps({"is_private": True})
    assert client.http.patch("/users/me", headers=account.auth, body=body).status_code == 200


def stored_edges(account: Account) -> list[tuple[str, str]]:
    """Every follow edge from or to the account, read from the table itself."""
    from chalicelib.core.config import get_settings

    dynamodb, table = boto3.client("dynamodb"), get_settings().follows_table
    outgoing = dynamodb.query(
        TableName=table,
        KeyConditionExpression="follower_id = :a",
        ExpressionAttributeValues={":a": {"S": account.user_id}},
        ConsistentRead=True,
    )["Items"]
    incoming = dynamodb.query(
        TableName=table,
        IndexName="followers_by_time",
        KeyConditionExpression="followee_id = :a",
        ExpressionAttributeValues={":a": {"S": account.user_id}},
    )["Items"]
    return sorted(
        {(item["follower_id"]["S"], item["followee_id"]["S"]) for item in outgoing + incoming}
    )


def stored_requests(target: Account) -> list[str]:
    from chalicelib.core.config import get_settings

    items = boto3.client("dynamodb").query(
        TableName=get_settings().follow_requests_table,
        KeyConditionExpression="target_id = :t",
        ExpressionAttributeValues={":t": {"S": target.user_id}},
        ConsistentRead=True,
    )["Items"]
    return [item["requester_id"]["S"] for item in items]


def notices(client: Client, account: Account) -> list[tuple[str, str]]:
    items = get(client, "/notifications?limit=50", account).json_body["items"]
    return [(item["type"], item["actor"]["user_id"]) for item in items]


def feed_ids(client: Client, reader: Account) -> list[str]:
    return [item["post_id"] for item in get(client, "/feed?limit=50", reader).json_body["items"]]


def feed_entries(reader: Account) -> list[str]:
    """The reader's feed entries as stored (what fan-out and clean-up wrote), not as read."""
    from chalicelib.feed import repository as feeds

    return [ref.post_id for ref in feeds.newest_entries(reader.user_id, None, 100)]


def story(client: Client, owner: Account, make_ready_media) -> str:  # type: ignore[no-untyped-def]
    body = json.dumps({"media_id": make_ready_media(owner, "story")})
    created = client.http.post("/stories", headers=owner.auth, body=body)
    assert created.status_code == 201, created.body
    return created.json_body["story_id"]


def send(client: Client, sender: Account, to: Account, text: str = "hi") -> Any:
    body = {"to": to.user_id, "text": text, "client_id": str(uuid.uuid4())}
    return client.http.post("/messages", headers=sender.auth, body=json.dumps(body))


def search(client: Client, viewer: Account, q: str, kind: str) -> list[str]:
    response = get(client, f"/search?q={quote(q)}&type={kind}", viewer)
    assert response.status_code == 200, response.body
    key = "user_id" if kind == "users" else "post_id"
    return [item[key] for item in response.json_body["items"]]


def tag() -> str:
    return "b" + uuid.uuid4().hex[:10]


# --- the routes -----------------------------------------------------------------------------


def test_blocking_answers_blocked_and_is_idempotent(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked = make_account("blocker"), make_account("blocked")
    for _ in range(2):
        response = block(client, blocker, blocked)
        assert (response.status_code, response.json_body) == (200, {"status": "blocked"})
    listed = get(client, "/blocks", blocker).json_body
    assert [item["user_id"] for item in listed["items"]] == [blocked.user_id]
    assert listed["next_cursor"] is None


def test_blocking_yourself_is_400_and_an_unknown_account_404(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    account = make_account("self")
    for call in (client.http.post, client.http.delete):
        assert call(f"/users/{account.user_id}/block", headers=account.auth).status_code == 400
        assert call("/users/no-such-user/block", headers=account.auth).status_code == 404
    assert get(client, "/blocks", account).json_body["items"] == []


def test_unblocking_is_204_and_idempotent(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked = make_account("blocker"), make_account("blocked")
    assert block(client, blocker, blocked).status_code == 200
    for _ in range(2):
        response = unblock(client, blocker, blocked)
        assert (response.status_code, response.body) == (204, b"")
    assert get(client, "/blocks", blocker).json_body["items"] == []
    assert get(client, f"/users/{blocker.user_id}", blocked).status_code == 200


def test_blocked_accounts_list_newest_first_and_page(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    blocker = make_account("blocker")
    others = [make_account("other") for _ in range(3)]
    for other in others:
        assert block(client, blocker, other).status_code == 200
    first = get(client, "/blocks?limit=2", blocker).json_body
    rest = get(client, f"/blocks?limit=2&cursor={first['next_cursor']}", blocker).json_body
    paged = [item["user_id"] for item in first["items"] + rest["items"]]
    assert paged == [other.user_id for other in reversed(others)]
    assert set(first["items"][0]) == {"user_id", "username", "full_name", "avatar"}
    # Each list is the caller's own: nobody else's blocks show.
    assert get(client, "/blocks", others[0]).json_body["items"] == []


# --- the graph between them -----------------------------------------------------------------


def test_a_block_removes_follows_both_ways_with_their_counters(
    client: Client, make_account, plumbing
) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked, bystander = make_account("blocker"), make_account("blocked"), make_account()
    for follower, followee in ((blocker, blocked), (blocked, blocker), (bystander, blocker)):
        assert follow(client, follower, followee).json_body == {"status": "following"}
    settle(plumbing)
    assert ("follow", blocked.user_id) in notices(client, blocker)

    assert block(client, blocker, blocked).status_code == 200

    assert stored_edges(blocked) == []
    assert stored_edges(blocker) == [(bystander.user_id, blocker.user_id)]
    mine = me(client, blocker)
    assert (mine["follower_count"], mine["following_count"]) == (1, 0)
    theirs = me(client, blocked)
    assert (theirs["follower_count"], theirs["following_count"]) == (0, 0)
    seen = get(client, f"/users/{blocked.user_id}", blocker).json_body
    assert (seen["followed_by_me"], seen["follows_me"], seen["blocked_by_me"]) == (
        False,
        False,
        True,
    )
    # The follows stream withdraws the follow notification, as after an unfollow.
    settle(plumbing)
    assert notices(client, blocker) == [("follow", bystander.user_id)]


def test_a_block_removes_pending_requests_both_ways_with_their_notifications(
    client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked = make_account("blocker"), make_account("blocked")
    set_private(client, blocker)
    set_private(client, blocked)
    assert follow(client, blocked, blocker).json_body == {"status": "requested"}
    assert follow(client, blocker, blocked).json_body == {"status": "requested"}
    assert notices(client, blocker) == [("follow_request", blocked.user_id)]

    assert block(client, blocker, blocked).status_code == 200

    assert stored_requests(blocker) == stored_requests(blocked) == []
    assert notices(client, blocker) == notices(client, blocked) == []
    assert get(client, "/follow-requests", blocker).json_body["items"] == []


def test_the_blocked_cannot_follow_or_ask_to_follow_the_blocker(
    client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    public, private, blocked = make_account("pub"), make_account("priv"), make_account("blocked")
    set_private(client, private)
    for blocker in (public, private):
        assert block(client, blocker, blocked).status_code == 200
        refused = follow(client, blocked, blocker)
        assert refused.status_code == 404, refused.body
        assert refused.json_body["Message"] == "no user with that id"
        # Unfollowing them answers as for an account that does not exist, too.
        gone = client.http.delete(f"/users/{blocker.user_id}/follow", headers=blocked.auth)
        assert gone.status_code == 404
    assert stored_edges(blocked) == []
    assert stored_requests(private) == []
    assert me(client, blocked)["following_count"] == 0


def test_the_blocker_must_unblock_before_following(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked = make_account("blocker"), make_account("blocked")
    assert block(client, blocker, blocked).status_code == 200
    refused = follow(client, blocker, blocked)
    assert (refused.status_code, refused.json_body["Code"]) == (403, "ForbiddenError")
    assert stored_edges(blocker) == []

    assert unblock(client, blocker, blocked).status_code == 204
    assert follow(client, blocker, blocked).json_body == {"status": "following"}


def race_follows_against_a_block(blocker: Account, blocked: Account, follows: int) -> list[str]:
    """``follows`` concurrent follows of the blocker by the blocked, and the block, sent once
    the first follow went through (so it meets a follow that exists and others in flight);
    what each call answered."""
    from chalicelib.core.errors import NotFound
    from chalicelib.follows import service

    one_went_through = threading.Event()

    def attempt(index: int) -> str:
        if index == 0:
            assert one_went_through.wait(timeout=30)
            return service.block(blocker.user_id, blocked.user_id)
        try:
            outcome = service.follow(blocked.user_id, blocker.user_id)
        except NotFound:
            return "refused"
        one_went_through.set()
        return outcome

    with ThreadPoolExecutor(max_workers=follows + 1) as pool:
        return list(pool.map(attempt, range(follows + 1)))


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
def test_twenty_follows_racing_a_block_leave_no_edge_and_exact_counters(
    client: Client, make_account, plumbing, private: bool
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.users import repository as users

    blocker, blocked = make_account("blocker"), make_account("blocked")
    if private:
        set_private(client, blocker)

    outcomes = race_follows_against_a_block(blocker, blocked, follows=20)

    assert outcomes.count("blocked") == 1
    assert set(outcomes) - {"blocked"} <= {"following", "requested", "refused"}
    assert ("requested" if private else "following") in outcomes  # the block met one
    assert stored_edges(blocked) == stored_edges(blocker) == []
    assert stored_requests(blocker) == []
    assert users.get_user(blocker.user_id, consistent=True).follower_count == 0
    assert users.get_user(blocked.user_id, consistent=True).following_count == 0
    settle(plumbing)  # a follow made before the block notified; its removal withdrew it
    assert notices(client, blocker) == []


def test_an_approval_across_a_block_is_refused_and_ends_the_request(
    client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    """A block stored while an approval runs (before the block removed the request) wins."""
    from chalicelib.follows import blocks_repository as blocks

    owner, fan = make_account("owner"), make_account("fan")
    set_private(client, owner)
    assert follow(client, fan, owner).json_body == {"status": "requested"}
    assert blocks.add_block(owner.user_id, fan.user_id, datetime.now(UTC))

    approved = client.http.post(f"/follow-requests/{fan.user_id}/approve", headers=owner.auth)

    assert approved.status_code == 404, approved.body
    assert stored_requests(owner) == []
    assert stored_edges(owner) == []
    assert notices(client, owner) == []


# --- what the blocked no longer sees ----------------------------------------------------------


def test_the_blockers_profile_content_and_lists_are_404_to_the_blocked(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked, stranger = make_account("blocker"), make_account("blocked"), make_account()
    post_id = create_post(client, blocker, make_ready_media(blocker), "mine")
    story_id = story(client, blocker, make_ready_media)
    comment = client.http.post(
        f"/posts/{post_id}/comments", headers=stranger.auth, body=json.dumps({"text": "nice"})
    )
    assert comment.status_code == 201

    assert block(client, blocker, blocked).status_code == 200

    paths = [
        f"/users/{blocker.user_id}",
        f"/users/by-username/{blocker.username}",
        f"/users/{blocker.user_id}/posts",
        f"/users/{blocker.user_id}/followers",
        f"/users/{blocker.user_id}/following",
        f"/users/{blocker.user_id}/stories",
        f"/posts/{post_id}",
        f"/posts/{post_id}/comments",
    ]
    for path in paths:
        hidden = get(client, path, blocked)
        assert hidden.status_code == 404, (path, hidden.body)
        assert set(hidden.json_body) == {"Code", "Message"}
        assert get(client, path, stranger).status_code == 200, path
    # The same answers, word for word, as for things that never existed.
    missing_post = f"01JD3ZK8X7M4Q2V9W5T6R8Y0AB_{blocker.user_id}"
    assert (
        get(client, f"/posts/{post_id}", blocked).json_body
        == get(client, f"/posts/{missing_post}", blocked).json_body
    )
    assert (
        get(client, f"/users/{blocker.user_id}", blocked).json_body
        == get(client, "/users/no-such-user", blocked).json_body
    )
    assert get(client, f"/users/by-username/{blocker.username}", blocked).json_body["Message"] == (
        f"no user is called {blocker.username!r}"
    )
    viewed = client.http.post(f"/stories/{story_id}/view", headers=blocked.auth)
    assert viewed.status_code == 404


def test_the_blocked_cannot_like_comment_save_or_report_the_blockers_posts(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked = make_account("blocker"), make_account("blocked")
    post_id = create_post(client, blocker, make_ready_media(blocker))
    assert block(client, blocker, blocked).status_code == 200

    text = json.dumps({"text": "hello"})
    report = json.dumps({"target_type": "post", "target_id": post_id, "reason": "spam"})
    for path, body in (
        (f"/posts/{post_id}/like", None),
        (f"/posts/{post_id}/comments", text),
        (f"/posts/{post_id}/save", None),
        ("/reports", report),
    ):
        refused = client.http.post(path, headers=blocked.auth, body=body)
        assert refused.status_code == 404, (path, refused.body)
    seen = get(client, f"/posts/{post_id}", blocker).json_body
    assert (seen["like_count"], seen["comment_count"]) == (0, 0)


def test_the_blocked_cannot_message_the_blocker_over_rest_or_the_websocket(
    chalice_app, client: Client, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked = make_account("blocker"), make_account("blocked")
    earlier = send(client, blocked, blocker, "before")
    assert earlier.status_code == 201
    conversation_id = earlier.json_body["conversation_id"]
    assert block(client, blocker, blocked).status_code == 200

    refused = send(client, blocked, blocker, "after")
    assert refused.status_code == 404
    assert refused.json_body == send(client, blocked, make_unknown(blocked)).json_body

    phone = open_connection(blocked, "phone")
    frame = {"action": "send", "to": blocker.user_id, "text": "after", "client_id": "ws-1"}
    send_frame(chalice_app, phone, frame)
    [error] = websocket_api.to(phone)
    assert (error["type"], error["code"], error["client_id"]) == ("error", "NotFoundError", "ws-1")

    # The blocker cannot write to them either until they unblock (403), and the
    # conversation holds only what was sent before the block.
    assert send(client, blocker, blocked, "nope").status_code == 403
    history = get(client, f"/conversations/{conversation_id}/messages", blocker).json_body
    assert [message["text"] for message in history["items"]] == ["before"]
    assert [frame for _, frame in websocket_api.sent if frame.get("type") == "message"] == []


def make_unknown(account: Account) -> Account:
    return Account("no-such-user", "nobody", account.token, account.refresh_token)


def test_mentioning_the_blocker_neither_links_nor_notifies(
    client: Client, make_account, make_ready_media, plumbing
) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked = make_account("blocker"), make_account("blocked")
    assert block(client, blocker, blocked).status_code == 200
    created = client.http.post(
        "/posts",
        headers=blocked.auth,
        body=json.dumps(
            {"media_ids": [make_ready_media(blocked)], "caption": f"hi @{blocker.username}"}
        ),
    )
    assert created.status_code == 201, created.body
    assert created.json_body["mentions"] == []
    settle(plumbing)
    assert notices(client, blocker) == []


# --- lists that mix accounts: search, hashtag pages, feeds, trays ---------------------------


def test_search_leaves_out_the_blocker_and_their_posts_for_the_blocked(
    client: Client, make_account, make_ready_media, plumbing
) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked, stranger = make_account("blocker"), make_account("blocked"), make_account()
    word = tag()
    post_id = create_post(client, blocker, make_ready_media(blocker), f"#{word} {word}x")
    assert block(client, blocker, blocked).status_code == 200
    settle(plumbing)

    assert search(client, stranger, blocker.username, "users") == [blocker.user_id]
    assert search(client, blocked, blocker.username, "users") == []
    # One-way: the blocker still finds the blocked, to unblock them.
    assert search(client, blocker, blocked.username, "users") == [blocked.user_id]
    assert search(client, stranger, f"{word}x", "posts") == [post_id]
    assert search(client, blocked, f"{word}x", "posts") == []
    hashtag = get(client, f"/hashtags/{word}/posts", blocked).json_body
    assert hashtag["items"] == []
    assert [p["post_id"] for p in get(client, f"/hashtags/{word}/posts", stranger).json_body["items"]] == [post_id]  # fmt: skip

    assert unblock(client, blocker, blocked).status_code == 204
    assert search(client, blocked, blocker.username, "users") == [blocker.user_id]
    assert search(client, blocked, f"{word}x", "posts") == [post_id]


def test_saved_posts_of_the_blocker_leave_the_blocked_users_list(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked = make_account("blocker"), make_account("blocked")
    post_id = create_post(client, blocker, make_ready_media(blocker))
    assert client.http.post(f"/posts/{post_id}/save", headers=blocked.auth).status_code == 200
    assert block(client, blocker, blocked).status_code == 200
    assert get(client, "/saved", blocked).json_body["items"] == []


def test_a_block_takes_the_blockers_posts_out_of_the_blocked_users_feed_and_tray(
    client: Client, make_account, make_ready_media, plumbing
) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked = make_account("blocker"), make_account("blocked")
    assert follow(client, blocked, blocker).json_body == {"status": "following"}
    assert follow(client, blocker, blocked).json_body == {"status": "following"}
    before = create_post(client, blocker, make_ready_media(blocker), "before")
    theirs = create_post(client, blocked, make_ready_media(blocked), "theirs")
    story(client, blocker, make_ready_media)
    settle(plumbing)
    assert feed_ids(client, blocked) == [theirs, before]
    assert blocker.user_id in tray_owners(client, blocked)

    assert block(client, blocker, blocked).status_code == 200
    assert feed_ids(client, blocked) == [theirs]  # on the very next read
    assert blocker.user_id not in tray_owners(client, blocked)
    settle(plumbing)
    # The follows stream's REMOVE records took the entries out of both feeds.
    assert feed_entries(blocked) == [theirs]
    assert feed_entries(blocker) == [before]

    after = create_post(client, blocker, make_ready_media(blocker), "after")
    settle(plumbing)
    assert feed_entries(blocked) == [theirs]  # nothing fans out to them any more
    assert feed_ids(client, blocked) == [theirs]
    assert feed_ids(client, blocker) == [after, before]

    # Unblocking restores visibility, not the follows: the feed stays without them.
    assert unblock(client, blocker, blocked).status_code == 204
    assert get(client, f"/posts/{after}", blocked).status_code == 200
    assert stored_edges(blocked) == []
    assert feed_ids(client, blocked) == [theirs]


def tray_owners(client: Client, viewer: Account) -> list[str]:
    return [group["user"]["user_id"] for group in get(client, "/stories/feed", viewer).json_body["items"]]  # fmt: skip


def test_unblocking_restores_visibility_but_not_follows(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked = make_account("blocker"), make_account("blocked")
    assert follow(client, blocked, blocker).json_body == {"status": "following"}
    post_id = create_post(client, blocker, make_ready_media(blocker))
    assert block(client, blocker, blocked).status_code == 200
    assert get(client, f"/posts/{post_id}", blocked).status_code == 404

    assert unblock(client, blocker, blocked).status_code == 204

    for path in (f"/users/{blocker.user_id}", f"/posts/{post_id}", f"/users/{blocker.user_id}/posts"):  # fmt: skip
        assert get(client, path, blocked).status_code == 200, path
    seen = get(client, f"/users/{blocker.user_id}", blocked).json_body
    assert (seen["followed_by_me"], seen["follower_count"]) == (False, 0)
    assert follow(client, blocked, blocker).json_body == {"status": "following"}
    assert send(client, blocked, blocker).status_code == 201


def test_a_private_blockers_content_is_404_not_403_to_the_blocked(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    """Blocked comes before private: the answer must not tell the blocked the account exists."""
    blocker, blocked, stranger = make_account("blocker"), make_account("blocked"), make_account()
    set_private(client, blocker)
    post_id = create_post(client, blocker, make_ready_media(blocker))
    assert block(client, blocker, blocked).status_code == 200
    for path in (f"/posts/{post_id}", f"/users/{blocker.user_id}/posts", f"/users/{blocker.user_id}/stories"):  # fmt: skip
        assert get(client, path, stranger).status_code == 403, path
        assert get(client, path, blocked).status_code == 404, path


# --- what it costs ----------------------------------------------------------------------------


def test_a_single_post_read_decides_blocks_in_its_one_request(
    client: Client, make_account, make_ready_media, plumbing
) -> None:  # type: ignore[no-untyped-def]
    author, reader = make_account("author"), make_account("reader")
    post_id = create_post(client, author, make_ready_media(author))
    settle(plumbing)  # no stream handler calls DynamoDB meanwhile
    with DynamoDBCallCounter() as counter:
        assert get(client, f"/posts/{post_id}", reader).status_code == 200
    assert counter.calls == ["BatchGetItem"]
    with DynamoDBCallCounter() as counter:
        assert get(client, f"/users/{author.user_id}/posts", reader).status_code == 200
    # The author's profile and edges (one BatchGetItem), their posts (one Query), the page.
    assert sorted(counter.calls) == ["BatchGetItem", "BatchGetItem", "Query"]
