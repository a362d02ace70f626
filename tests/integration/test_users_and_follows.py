"""Profiles and the follow graph through the real routes, against moto."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from chalice.test import Client

from tests.support import Account


def get(client: Client, path: str, account: Account):  # type: ignore[no-untyped-def]
    return client.http.get(path, headers=account.auth)


def test_profile_shows_counts_and_relationship_both_ways(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_account("alice"), make_account("bob")
    assert client.http.post(f"/users/{bob.user_id}/follow", headers=alice.auth).json_body == {
        "status": "following"
    }

    seen_by_alice = get(client, f"/users/{bob.user_id}", alice).json_body
    assert seen_by_alice["follower_count"] == 1
    assert seen_by_alice["followed_by_me"] is True
    assert seen_by_alice["follows_me"] is False
    seen_by_bob = get(client, f"/users/{alice.user_id}", bob).json_body
    assert seen_by_bob["following_count"] == 1
    assert seen_by_bob["followed_by_me"] is False
    assert seen_by_bob["follows_me"] is True
    assert set(seen_by_bob) == {
        "user_id", "username", "full_name", "bio", "avatar", "is_private", "follower_count",
        "following_count", "post_count", "followed_by_me", "follows_me", "follow_requested_by_me",
        "blocked_by_me",
    }  # fmt: skip


def test_profile_by_username_ignores_case(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    alice = make_account("alice")
    response = get(client, f"/users/by-username/{alice.username.upper()}", alice)
    assert response.status_code == 200
    assert response.json_body["user_id"] == alice.user_id


def test_unknown_users_are_404(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    alice = make_account()
    assert get(client, "/users/no-such-user", alice).status_code == 404
    assert get(client, "/users/by-username/nobody_here_at_all", alice).status_code == 404
    assert client.http.post("/users/no-such-user/follow", headers=alice.auth).status_code == 404
    assert get(client, "/users/no-such-user/followers", alice).status_code == 404


def test_patch_me_updates_only_given_fields(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    alice = make_account()
    changed = client.http.patch(
        "/users/me", headers=alice.auth, body=json.dumps({"bio": "hello", "is_private": True})
    )
    assert changed.status_code == 200
    assert changed.json_body["bio"] == "hello"
    assert changed.json_body["is_private"] is True
    again = client.http.patch("/users/me", headers=alice.auth, body=json.dumps({"full_name": "A"}))
    assert again.json_body["bio"] == "hello"
    assert again.json_body["full_name"] == "A"


@pytest.mark.parametrize(
    "patch",
    [{"bio": "x" * 151}, {"is_private": "true"}, {"is_private": 1}, {"nickname": "x"},
     {"full_name": 5}, {"avatar_media_id": "not-mine"}],
)  # fmt: skip
def test_bad_patches_are_refused_and_change_nothing(client: Client, make_account, patch) -> None:  # type: ignore[no-untyped-def]
    alice = make_account()
    before = get(client, "/users/me", alice).json_body
    response = client.http.patch("/users/me", headers=alice.auth, body=json.dumps(patch))
    assert 400 <= response.status_code < 500
    assert get(client, "/users/me", alice).json_body == before


def test_follow_and_unfollow_are_idempotent(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_account("alice"), make_account("bob")
    for _ in range(2):
        response = client.http.post(f"/users/{bob.user_id}/follow", headers=alice.auth)
        assert response.json_body == {"status": "following"}
    assert get(client, f"/users/{bob.user_id}", alice).json_body["follower_count"] == 1
    for _ in range(2):
        response = client.http.delete(f"/users/{bob.user_id}/follow", headers=alice.auth)
        assert response.json_body == {"status": "none"}
    bob_profile = get(client, f"/users/{bob.user_id}", alice).json_body
    assert (bob_profile["follower_count"], bob_profile["followed_by_me"]) == (0, False)
    assert get(client, "/users/me", alice).json_body["following_count"] == 0


def test_following_yourself_is_400(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    alice = make_account()
    response = client.http.post(f"/users/{alice.user_id}/follow", headers=alice.auth)
    assert response.status_code == 400
    assert get(client, "/users/me", alice).json_body["following_count"] == 0


def test_followers_page_newest_first_without_duplicates(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    star = make_account("star")
    fans = [make_account("fan") for _ in range(5)]
    for fan in fans:
        client.http.post(f"/users/{star.user_id}/follow", headers=fan.auth)

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = get(client, f"/users/{star.user_id}/followers{query}", star).json_body
        seen += [item["user_id"] for item in page["items"]]
        assert len(page["items"]) <= 2
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [fan.user_id for fan in reversed(fans)]
    following = get(client, f"/users/{fans[0].user_id}/following", star).json_body
    assert [item["username"] for item in following["items"]] == [star.username]


def test_new_followers_during_paging_cause_no_duplicates_or_gaps(
    client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    star = make_account("star")
    early = [make_account("fan") for _ in range(4)]
    for fan in early:
        client.http.post(f"/users/{star.user_id}/follow", headers=fan.auth)
    first = get(client, f"/users/{star.user_id}/followers?limit=2", star).json_body
    late = make_account("late")
    client.http.post(f"/users/{star.user_id}/follow", headers=late.auth)
    rest = get(
        client, f"/users/{star.user_id}/followers?limit=10&cursor={first['next_cursor']}", star
    ).json_body
    paged = [item["user_id"] for item in first["items"] + rest["items"]]
    assert paged == [fan.user_id for fan in reversed(early)]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=51", "?limit=abc", "?limit=-1", "?cursor=junk",
                                   "?cursor=eyJ4IjoxfQ.AAAAAAAAAAAAAAAAAAAAAA"])  # fmt: skip
def test_bad_list_parameters_are_400(client: Client, make_account, query: str) -> None:  # type: ignore[no-untyped-def]
    alice = make_account()
    response = get(client, f"/users/{alice.user_id}/followers{query}", alice)
    assert response.status_code == 400
    assert response.json_body["Code"] == "BadRequestError"


def test_a_cursor_only_works_for_the_list_it_came_from(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    star, other = make_account("star"), make_account("other")
    for _ in range(3):
        client.http.post(f"/users/{star.user_id}/follow", headers=make_account("fan").auth)
    cursor = get(client, f"/users/{star.user_id}/followers?limit=1", star).json_body["next_cursor"]
    assert cursor
    assert get(client, f"/users/{star.user_id}/followers?cursor={cursor}", star).status_code == 200
    assert get(client, f"/users/{other.user_id}/followers?cursor={cursor}", star).status_code == 400
    assert get(client, f"/users/{star.user_id}/following?cursor={cursor}", star).status_code == 400


def test_concurrent_follows_and_unfollows_leave_counts_equal_to_edges(
    chalice_app, make_account
) -> None:  # type: ignore[no-untyped-def]
    """50 racing follow/unfollow calls on one pair through the domain service and moto."""
    from chalicelib.core.config import get_settings
    from chalicelib.follows import service

    alice, bob = make_account("alice"), make_account("bob")
    actions = [service.follow if i % 2 == 0 else service.unfollow for i in range(50)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda act: act(alice.user_id, bob.user_id), actions))

    settings = get_settings()
    dynamodb = boto3.client("dynamodb")
    edges = dynamodb.query(
        TableName=settings.follows_table,
        KeyConditionExpression="follower_id = :a",
        ExpressionAttributeValues={":a": {"S": alice.user_id}},
    )["Count"]
    counts = {
        user.user_id: dynamodb.get_item(
            TableName=settings.users_table, Key={"user_id": {"S": user.user_id}}
        )["Item"]
        for user in (alice, bob)
    }
    assert int(counts[alice.user_id]["following_count"]["N"]) == edges
    assert int(counts[bob.user_id]["follower_count"]["N"]) == edges
    assert edges in (0, 1)
