"""Private accounts and follow requests through the real routes, against moto.

The event plumbing runs for the whole module, so what streams drive (an approval's follow
notification and feed backfill, an account going public) happens as on the local stack;
tests wait for it with ``wait_until_idle``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from chalice.test import Client

from local.event_plumbing import EventPlumbing
from local.lambda_runtime import LambdaContext
from tests.support import Account, DynamoDBCallCounter, create_post, load_event


@pytest.fixture(scope="module", autouse=True)
def plumbing(chalice_app) -> Iterator[EventPlumbing]:  # type: ignore[no-untyped-def]
    with EventPlumbing(chalice_app, fire_schedules_on_timer=False) as running:
        assert running.wait_until_idle(timeout=60)
        yield running


# --- helpers --------------------------------------------------------------------------------


def follow(client: Client, follower: Account, followee: Account) -> dict[str, Any]:
    response = client.http.post(f"/users/{followee.user_id}/follow", headers=follower.auth)
    assert response.status_code == 200, response.body
    return response.json_body


def unfollow(client: Client, follower: Account, followee: Account) -> dict[str, Any]:
    response = client.http.delete(f"/users/{followee.user_id}/follow", headers=follower.auth)
    assert response.status_code == 200, response.body
    return response.json_body


def set_private(client: Client, account: Account, private: bool) -> None:
    response = client.http.patch(
        "/users/me", headers=account.auth, body=json.dumps({"is_private": private})
    )
    assert response.status_code == 200, response.body
    assert response.json_body["is_private"] is private


def profile(client: Client, viewer: Account, user: Account) -> dict[str, Any]:
    response = client.http.get(f"/users/{user.user_id}", headers=viewer.auth)
    assert response.status_code == 200, response.body
    return response.json_body


def pending(client: Client, account: Account, query: str = "") -> dict[str, Any]:
    response = client.http.get(f"/follow-requests{query}", headers=account.auth)
    assert response.status_code == 200, response.body
    return response.json_body


def pending_ids(client: Client, account: Account) -> list[str]:
    return [item["user_id"] for item in pending(client, account, "?limit=50")["items"]]


def approve(client: Client, target: Account, requester_id: str):  # type: ignore[no-untyped-def]
    return client.http.post(f"/follow-requests/{requester_id}/approve", headers=target.auth)


def decline(client: Client, target: Account, requester_id: str):  # type: ignore[no-untyped-def]
    return client.http.delete(f"/follow-requests/{requester_id}", headers=target.auth)


def notices(client: Client, account: Account) -> list[tuple[str, str]]:
    response = client.http.get("/notifications?limit=50", headers=account.auth)
    assert response.status_code == 200, response.body
    return [(n["type"], n["actor"]["user_id"]) for n in response.json_body["items"]]


def stored_requests(target: Account) -> list[dict[str, Any]]:
    from chalicelib.core.config import get_settings

    return boto3.client("dynamodb").query(
        TableName=get_settings().follow_requests_table,
        KeyConditionExpression="target_id = :t",
        ExpressionAttributeValues={":t": {"S": target.user_id}},
        ConsistentRead=True,
    )["Items"]


def counts(client: Client, account: Account) -> tuple[int, int]:
    me = client.http.get("/users/me", headers=account.auth).json_body
    return me["follower_count"], me["following_count"]


def status(client: Client, viewer: Account, path: str) -> int:
    return client.http.get(path, headers=viewer.auth).status_code


@pytest.fixture
def private_account(client: Client, make_account):  # type: ignore[no-untyped-def]
    def make(prefix: str = "priv") -> Account:
        account = make_account(prefix)
        set_private(client, account, True)
        return account

    return make


# --- asking ---------------------------------------------------------------------------------


def test_following_a_private_account_asks_and_asking_twice_asks_once(
    client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    owner, fan = private_account(), make_account("fan")

    assert follow(client, fan, owner) == {"status": "requested"}
    assert follow(client, fan, owner) == {"status": "requested"}

    assert len(stored_requests(owner)) == 1
    assert pending_ids(client, owner) == [fan.user_id]
    assert notices(client, owner) == [("follow_request", fan.user_id)]
    seen = profile(client, fan, owner)
    assert (seen["followed_by_me"], seen["follow_requested_by_me"]) == (False, True)
    assert counts(client, owner) == (0, 0) and counts(client, fan) == (0, 0)
    assert profile(client, owner, fan)["follows_me"] is False


def test_a_public_account_is_followed_at_once(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    star, fan = make_account("star"), make_account("fan")
    assert follow(client, fan, star) == {"status": "following"}
    assert pending_ids(client, star) == []
    assert profile(client, fan, star)["follow_requested_by_me"] is False


def test_a_follower_of_an_account_that_went_private_stays_following(
    client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    owner, fan = make_account("owner"), make_account("fan")
    follow(client, fan, owner)
    set_private(client, owner, True)
    assert follow(client, fan, owner) == {"status": "following"}
    assert pending_ids(client, owner) == []
    assert counts(client, owner) == (1, 0)


@pytest.fixture
def before_a_transaction_on():  # type: ignore[no-untyped-def]
    """``before_a_transaction_on(user_id, action)``: run ``action`` once, just before the next
    transaction naming that user's profile item reaches DynamoDB (a botocore hook on the
    transactions' client): after the route read the profile, before its write is decided."""
    from chalicelib.core.config import get_settings
    from chalicelib.core.dynamodb import _connection

    transactions = _connection(get_settings().aws_region).client
    armed: dict[str, Any] = {}

    def run_once(params, **kwargs):  # type: ignore[no-untyped-def]
        users_table = get_settings().users_table
        for item in json.loads(params["body"])["TransactItems"]:
            ((_, operation),) = item.items()
            key = operation.get("Key", {}).get("user_id", {}).get("S")
            if operation["TableName"] == users_table and key in armed:
                armed.pop(key)()
                return

    transactions.meta.events.register("before-call.dynamodb.TransactWriteItems", run_once)
    yield lambda user_id, action: armed.__setitem__(user_id, action)
    transactions.meta.events.unregister("before-call.dynamodb.TransactWriteItems", run_once)


def test_a_follow_racing_a_switch_to_private_becomes_a_request(
    client: Client, make_account, before_a_transaction_on
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.users import repository as users

    # Given a public account that turns private after a follow read it as public, before
    # the follow's transaction runs
    owner, fan = make_account("owner"), make_account("fan")
    before_a_transaction_on(
        owner.user_id, lambda: users.update_profile(owner.user_id, {"is_private": True})
    )
    # When the follow goes through, then it is a request: the owner approves every follower
    assert follow(client, fan, owner) == {"status": "requested"}
    assert counts(client, owner) == (0, 0) and counts(client, fan) == (0, 0)
    assert pending_ids(client, owner) == [fan.user_id]
    assert profile(client, fan, owner)["followed_by_me"] is False
    assert status(client, fan, f"/users/{owner.user_id}/posts") == 403


def test_a_request_racing_a_switch_to_public_follows_at_once(
    client: Client, private_account, make_account, before_a_transaction_on
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.users import repository as users

    owner, fan = private_account(), make_account("fan")
    before_a_transaction_on(
        owner.user_id, lambda: users.update_profile(owner.user_id, {"is_private": False})
    )
    assert follow(client, fan, owner) == {"status": "following"}
    assert counts(client, owner) == (1, 0) and pending_ids(client, owner) == []


def test_asking_yourself_or_nobody_is_refused(client: Client, private_account) -> None:  # type: ignore[no-untyped-def]
    owner = private_account()
    yourself = client.http.post(f"/users/{owner.user_id}/follow", headers=owner.auth)
    assert yourself.status_code == 400
    assert client.http.post("/users/no-such-user/follow", headers=owner.auth).status_code == 404
    assert client.http.delete("/users/no-such-user/follow", headers=owner.auth).status_code == 404
    assert pending_ids(client, owner) == []


def test_unfollowing_withdraws_a_pending_request_and_its_notification(
    client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    owner, fan = private_account(), make_account("fan")
    follow(client, fan, owner)

    assert unfollow(client, fan, owner) == {"status": "none"}
    assert unfollow(client, fan, owner) == {"status": "none"}

    assert stored_requests(owner) == []
    assert notices(client, owner) == []
    assert profile(client, fan, owner)["follow_requested_by_me"] is False
    assert follow(client, fan, owner) == {"status": "requested"}  # asking again works
    assert notices(client, owner) == [("follow_request", fan.user_id)]


def test_a_profile_read_costs_one_batch_with_the_request(
    client: Client, make_account, private_account, plumbing
) -> None:  # type: ignore[no-untyped-def]
    owner, fan = private_account(), make_account("fan")
    follow(client, fan, owner)
    assert plumbing.wait_until_idle(timeout=30)  # no stream handler calls DynamoDB meanwhile
    with DynamoDBCallCounter() as counter:
        assert profile(client, fan, owner)["follow_requested_by_me"] is True
    assert counter.count("BatchGetItem") == 1
    assert counter.count("GetItem") == 1  # the profile itself


# --- the target's list ----------------------------------------------------------------------


def test_pending_requests_list_newest_first_and_page_without_gaps(
    client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    owner = private_account()
    fans = [make_account("fan") for _ in range(5)]
    for fan in fans[:4]:
        follow(client, fan, owner)

    first = pending(client, owner, "?limit=2")
    assert [item["user_id"] for item in first["items"]] == [fans[3].user_id, fans[2].user_id]
    assert set(first["items"][0]) == {"user_id", "username", "full_name", "avatar"}
    follow(client, fans[4], owner)  # arrives at the head while the owner pages
    rest = pending(client, owner, f"?limit=50&cursor={first['next_cursor']}")
    assert [item["user_id"] for item in rest["items"]] == [fans[1].user_id, fans[0].user_id]
    assert rest["next_cursor"] is None
    assert pending_ids(client, owner)[0] == fans[4].user_id


def test_the_list_is_the_callers_own_and_its_cursor_works_only_there(
    client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    owner, other = private_account(), private_account()
    for _ in range(2):
        follow(client, make_account("fan"), owner)
    cursor = pending(client, owner, "?limit=1")["next_cursor"]
    assert cursor
    assert pending(client, other) == {"items": [], "next_cursor": None}
    refused = client.http.get(f"/follow-requests?cursor={cursor}", headers=other.auth)
    assert refused.status_code == 400


@pytest.mark.parametrize("query", ["?limit=0", "?limit=51", "?limit=x", "?cursor=junk"])
def test_bad_list_parameters_are_400(client: Client, private_account, query: str) -> None:  # type: ignore[no-untyped-def]
    response = client.http.get(f"/follow-requests{query}", headers=private_account().auth)
    assert response.status_code == 400
    assert response.json_body["Code"] == "BadRequestError"


# --- approving and declining ----------------------------------------------------------------


def test_approving_makes_the_follow_counted_once_and_notified_as_a_follow(
    client: Client, make_account, private_account, plumbing
) -> None:  # type: ignore[no-untyped-def]
    owner, fan = private_account(), make_account("fan")
    follow(client, fan, owner)

    approved = approve(client, owner, fan.user_id)
    assert approved.status_code == 200, approved.body
    assert approved.json_body == {"user_id": fan.user_id, "follows_me": True}
    again = approve(client, owner, fan.user_id)  # already following: nothing more happens
    assert again.status_code == 200

    assert counts(client, owner) == (1, 0) and counts(client, fan) == (0, 1)
    assert stored_requests(owner) == []
    seen = profile(client, fan, owner)
    assert (seen["followed_by_me"], seen["follow_requested_by_me"]) == (True, False)
    assert follow(client, fan, owner) == {"status": "following"}
    assert plumbing.wait_until_idle(timeout=30)
    # The request's notification made way for the follow's (the follows stream's).
    assert notices(client, owner) == [("follow", fan.user_id)]
    assert notices(client, fan) == []  # the contract has no "accepted" type
    followers = client.http.get(f"/users/{owner.user_id}/followers", headers=owner.auth)
    assert [item["user_id"] for item in followers.json_body["items"]] == [fan.user_id]


def test_approving_a_request_nobody_made_is_404(
    client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    owner, stranger = private_account(), make_account("x")
    assert approve(client, owner, stranger.user_id).status_code == 404
    assert approve(client, owner, "no-such-user").status_code == 404
    assert approve(client, owner, owner.user_id).status_code == 404
    assert counts(client, owner) == (0, 0)


def test_nobody_but_the_target_can_approve_a_request(
    client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    # The target is the caller (from the token), so another account approving names a
    # request to itself: there is none.
    owner, fan, intruder = private_account(), make_account("fan"), private_account("intruder")
    follow(client, fan, owner)

    assert approve(client, intruder, fan.user_id).status_code == 404
    assert approve(client, fan, owner.user_id).status_code == 404  # the requester neither
    assert decline(client, intruder, fan.user_id).status_code == 204
    assert decline(client, fan, owner.user_id).status_code == 204

    assert pending_ids(client, owner) == [fan.user_id]
    assert profile(client, fan, owner)["follow_requested_by_me"] is True
    assert counts(client, owner) == (0, 0)


def test_declining_removes_the_request_idempotently_and_allows_asking_again(
    client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    owner, fan = private_account(), make_account("fan")
    follow(client, fan, owner)

    for _ in range(2):
        declined = decline(client, owner, fan.user_id)
        assert declined.status_code == 204
        assert declined.body in (b"", "")
    assert stored_requests(owner) == []
    assert notices(client, owner) == []
    assert counts(client, owner) == (0, 0)
    assert profile(client, fan, owner)["follow_requested_by_me"] is False
    assert status(client, fan, f"/users/{owner.user_id}/posts") == 403
    assert approve(client, owner, fan.user_id).status_code == 404
    assert follow(client, fan, owner) == {"status": "requested"}


def test_fifty_concurrent_approvals_of_one_request_count_once(
    client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.follows import service

    owner, fan = private_account(), make_account("fan")
    follow(client, fan, owner)

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda _: service.approve(owner.user_id, fan.user_id), range(50)))

    assert outcomes == [None] * 50  # every call succeeds: the follow they ask for exists
    assert counts(client, owner) == (1, 0) and counts(client, fan) == (0, 1)
    assert stored_requests(owner) == []


def test_concurrent_asks_store_one_request_and_one_notification(
    client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.follows import service

    owner, fan = private_account(), make_account("fan")
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = set(pool.map(lambda _: service.follow(fan.user_id, owner.user_id), range(30)))
    assert answers == {"requested"}
    assert len(stored_requests(owner)) == 1
    assert notices(client, owner) == [("follow_request", fan.user_id)]


def test_concurrent_approvals_and_withdrawals_leave_counts_equal_to_edges(
    client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.errors import DependencyUnavailable, NotFound
    from chalicelib.follows import service

    owner, fan = private_account(), make_account("fan")
    follow(client, fan, owner)

    def act(index: int) -> None:
        try:
            if index % 3 == 0:
                service.approve(owner.user_id, fan.user_id)
            elif index % 3 == 1:
                service.unfollow(fan.user_id, owner.user_id)
            else:
                service.follow(fan.user_id, owner.user_id)
        except NotFound:
            pass  # approving after a withdrawal: no request
        except DependencyUnavailable:
            pass  # the request was withdrawn and made again under every attempt: retry later

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(act, range(45)))

    edges = 1 if profile(client, fan, owner)["followed_by_me"] else 0
    requests = len(stored_requests(owner))
    assert edges + requests <= 1
    assert counts(client, owner) == (edges, 0) and counts(client, fan) == (0, edges)


# --- what a pending requester sees ----------------------------------------------------------


def test_until_approved_a_requester_sees_the_profile_but_not_posts_stories_or_lists(
    client: Client, make_account, private_account, make_ready_media, plumbing
) -> None:  # type: ignore[no-untyped-def]
    owner, fan, stranger = private_account(), make_account("fan"), make_account("x")
    post_id = create_post(client, owner, make_ready_media(owner), "private #things")
    story = client.http.post(
        "/stories",
        headers=owner.auth,
        body=json.dumps({"media_id": make_ready_media(owner, "story")}),
    )
    assert story.status_code == 201, story.body
    story_id = story.json_body["story_id"]
    follow(client, fan, owner)
    assert plumbing.wait_until_idle(timeout=30)

    seen = profile(client, fan, owner)
    assert (seen["username"], seen["post_count"], seen["is_private"]) == (
        owner.username,
        1,
        True,
    )
    hidden = [
        f"/users/{owner.user_id}/posts",
        f"/posts/{post_id}",
        f"/users/{owner.user_id}/stories",
        f"/users/{owner.user_id}/followers",
        f"/users/{owner.user_id}/following",
    ]
    for path in hidden:
        assert status(client, fan, path) == 403, path
        assert status(client, stranger, path) == 403, path
        assert status(client, owner, path) == 200, path
    assert client.http.post(f"/stories/{story_id}/view", headers=fan.auth).status_code == 403
    tray = client.http.get("/stories/feed", headers=fan.auth).json_body["items"]
    assert tray == []

    assert approve(client, owner, fan.user_id).status_code == 200
    for path in hidden:
        assert status(client, fan, path) == 200, path
    assert status(client, stranger, f"/users/{owner.user_id}/followers") == 403
    assert plumbing.wait_until_idle(timeout=30)  # the follow backfills the tray
    tray = client.http.get("/stories/feed", headers=fan.auth).json_body["items"]
    assert [group["user"]["user_id"] for group in tray] == [owner.user_id]


def test_a_public_accounts_lists_are_for_everyone(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    owner, stranger = make_account("pub"), make_account("x")
    assert status(client, stranger, f"/users/{owner.user_id}/followers") == 200
    assert status(client, stranger, f"/users/{owner.user_id}/following") == 200
    assert status(client, stranger, "/users/no-such-user/followers") == 404


def test_nothing_fans_out_to_a_pending_requester_and_later_posts_do_after_approval(
    client: Client, make_account, private_account, make_ready_media, plumbing
) -> None:  # type: ignore[no-untyped-def]
    owner, fan = private_account(), make_account("fan")
    follow(client, fan, owner)
    before = create_post(client, owner, make_ready_media(owner))
    assert plumbing.wait_until_idle(timeout=30)

    def feed_ids() -> list[str]:
        response = client.http.get("/feed?limit=50", headers=fan.auth)
        assert response.status_code == 200, response.body
        return [item["post_id"] for item in response.json_body["items"]]

    assert feed_ids() == []
    assert approve(client, owner, fan.user_id).status_code == 200
    assert plumbing.wait_until_idle(timeout=30)
    assert feed_ids() == [before]  # the approved follow backfills, as any follow does
    after = create_post(client, owner, make_ready_media(owner))
    assert plumbing.wait_until_idle(timeout=30)
    assert feed_ids() == [after, before]


# --- going public ---------------------------------------------------------------------------


def test_going_public_approves_every_pending_request(
    client: Client, make_account, private_account, plumbing
) -> None:  # type: ignore[no-untyped-def]
    owner = private_account()
    fans = [make_account("fan") for _ in range(3)]
    for fan in fans:
        follow(client, fan, owner)
    declined = make_account("declined")
    follow(client, declined, owner)
    decline(client, owner, declined.user_id)

    set_private(client, owner, False)
    assert plumbing.wait_until_idle(timeout=30)

    assert pending_ids(client, owner) == []
    assert counts(client, owner) == (3, 0)
    for fan in fans:
        assert profile(client, fan, owner)["followed_by_me"] is True
    assert profile(client, declined, owner)["followed_by_me"] is False
    assert sorted(n for n in notices(client, owner)) == sorted(
        ("follow", fan.user_id) for fan in fans
    )


def test_following_again_right_after_the_account_went_public_counts_once(
    client: Client, make_account, private_account, plumbing
) -> None:  # type: ignore[no-untyped-def]
    owner, fan = private_account(), make_account("fan")
    follow(client, fan, owner)
    set_private(client, owner, False)

    # Whether or not the stream has approved the request yet, this is a follow now.
    assert follow(client, fan, owner) == {"status": "following"}
    assert plumbing.wait_until_idle(timeout=30)

    assert counts(client, owner) == (1, 0) and counts(client, fan) == (0, 1)
    assert stored_requests(owner) == []
    assert notices(client, owner) == [("follow", fan.user_id)]


def user_modify_event(user: Account, *, was_private: bool, is_private: bool) -> dict[str, Any]:
    """The users stream's MODIFY sample, for this user, changing only ``is_private``."""
    event = copy.deepcopy(load_event("dynamodbStreamUserModify.json"))
    stream_record = event["Records"][0]["dynamodb"]
    serialize = TypeSerializer().serialize
    stream_record["Keys"] = {"user_id": serialize(user.user_id)}
    for name, private in (("OldImage", was_private), ("NewImage", is_private)):
        stream_record[name].update(
            user_id=serialize(user.user_id),
            username=serialize(user.username),
            full_name=serialize(""),
            is_private=serialize(private),
        )
    return event


def deliver_users_record(chalice_app, event: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return chalice_app.handler_map["users_stream"](event, LambdaContext("users_stream"))


def test_a_redelivered_going_public_record_approves_nothing_twice(
    chalice_app, client: Client, make_account, private_account, plumbing
) -> None:  # type: ignore[no-untyped-def]
    owner, fan = private_account(), make_account("fan")
    follow(client, fan, owner)
    set_private(client, owner, False)
    assert plumbing.wait_until_idle(timeout=30)
    assert counts(client, owner) == (1, 0)

    redelivered = user_modify_event(owner, was_private=True, is_private=False)
    assert deliver_users_record(chalice_app, redelivered) == {"batchItemFailures": []}
    assert counts(client, owner) == (1, 0) and counts(client, fan) == (0, 1)


def test_an_account_private_again_keeps_its_requests_pending(
    chalice_app, client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    # A late (or redelivered) "went public" record, read when the account is private again.
    owner, fan = private_account(), make_account("fan")
    follow(client, fan, owner)
    late = user_modify_event(owner, was_private=True, is_private=False)
    assert deliver_users_record(chalice_app, late) == {"batchItemFailures": []}
    assert pending_ids(client, owner) == [fan.user_id]
    assert counts(client, owner) == (0, 0)


def test_other_user_changes_approve_nothing(
    chalice_app, client: Client, make_account, private_account
) -> None:  # type: ignore[no-untyped-def]
    owner, fan = private_account(), make_account("fan")
    follow(client, fan, owner)
    for was, now in ((False, False), (False, True), (True, True)):
        record = user_modify_event(owner, was_private=was, is_private=now)
        assert deliver_users_record(chalice_app, record) == {"batchItemFailures": []}
    assert pending_ids(client, owner) == [fan.user_id]


def test_approving_many_requests_carries_on_where_a_spent_budget_stopped(
    client: Client, make_account, private_account, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.errors import DependencyUnavailable
    from chalicelib.follows import service

    owner = private_account()
    fans = [make_account("fan") for _ in range(3)]
    for fan in fans:
        follow(client, fan, owner)

    # The consumer's work, played here: the owner reads as public to it, while the table
    # keeps the account private, so no stream record makes the plumbing approve meanwhile.
    stored = service.users

    class OwnerReadsPublic:
        def __getattr__(self, name: str) -> Any:
            return getattr(stored, name)

        def get_user(self, user_id: str, consistent: bool = False) -> Any:
            user = stored.get_user(user_id, consistent)
            if user_id != owner.user_id:
                return user
            return dataclasses.replace(user, is_private=False)

    monkeypatch.setattr(service, "users", OwnerReadsPublic())
    with pytest.raises(DependencyUnavailable):
        service.approve_all_pending(owner.user_id, budget_seconds=0)
    assert len(stored_requests(owner)) == 3  # the record is delivered again
    assert service.approve_all_pending(owner.user_id) == 3
    assert service.approve_all_pending(owner.user_id) == 0
    monkeypatch.undo()
    assert counts(client, owner) == (3, 0)
    assert pending_ids(client, owner) == []
