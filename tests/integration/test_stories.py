"""Stories: posting, the tray (fanned out through the stories stream and the fan-out queue,
celebrities pulled at read time), views, the viewers list, exact expiry, and the clean-up
that follows TTL's (or the sweeper's) REMOVE records."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
from chalice.test import Client

from local.event_plumbing import EventPlumbing
from local.lambda_runtime import LambdaContext
from tests.support import Account, DynamoDBCallCounter, load_event, objects_of_media

TTL_REMOVE_SAMPLE = "dynamodbStreamStoryTtlRemove.json"


@pytest.fixture(scope="module")
def plumbing(chalice_app) -> Iterator[EventPlumbing]:  # type: ignore[no-untyped-def]
    # Schedules only when a test says so: the sweeper must not tidy what a test inspects.
    with EventPlumbing(chalice_app, fire_schedules_on_timer=False) as running:
        assert running.wait_until_idle(timeout=60)
        yield running


@pytest.fixture
def setting(monkeypatch):  # type: ignore[no-untyped-def]
    """Override one setting for one test, as the local stack's environment can."""
    from chalicelib.core.config import get_settings

    def override(name: str, value: object) -> None:
        monkeypatch.setenv(name, str(value))
        get_settings.cache_clear()

    yield override
    monkeypatch.undo()
    get_settings.cache_clear()


def follow(client: Client, follower: Account, followee: Account) -> None:
    response = client.http.post(f"/users/{followee.user_id}/follow", headers=follower.auth)
    assert response.status_code == 200, response.body


def post_story(client: Client, owner: Account, media_id: str, **headers: str) -> dict:
    response = client.http.post(
        "/stories", headers={**owner.auth, **headers}, body=json.dumps({"media_id": media_id})
    )
    assert response.status_code == 201, response.body
    return response.json_body


def tray(client: Client, viewer: Account) -> list[dict]:
    response = client.http.get("/stories/feed", headers=viewer.auth)
    assert response.status_code == 200, response.body
    return response.json_body["items"]


def tray_ids(client: Client, viewer: Account) -> list[tuple[str, list[str]]]:
    return [
        (group["user"]["user_id"], [story["story_id"] for story in group["stories"]])
        for group in tray(client, viewer)
    ]


def user_story_ids(client: Client, viewer: Account, owner: Account) -> list[str]:
    response = client.http.get(f"/users/{owner.user_id}/stories", headers=viewer.auth)
    assert response.status_code == 200, response.body
    return [story["story_id"] for story in response.json_body["items"]]


def view(client: Client, viewer: Account, story_id: str) -> int:
    return client.http.post(f"/stories/{story_id}/view", headers=viewer.auth).status_code


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- posting --------------------------------------------------------------------------------


def test_a_story_expires_story_ttl_seconds_after_creation(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings

    owner = make_account("owner")
    before = datetime.now(UTC)
    created = post_story(client, owner, make_ready_media(owner, "story"))
    expires_at = parse_time(created["expires_at"])
    ttl = get_settings().story_ttl_seconds
    assert ttl - 1 <= (expires_at - before).total_seconds() <= ttl + 1
    item = boto3.client("dynamodb").get_item(
        TableName=get_settings().stories_table,
        Key={"owner_id": {"S": owner.user_id}, "story_id": {"S": created["story_id"]}},
    )["Item"]
    assert int(item["expires_at"]["N"]) == int(expires_at.timestamp())  # the TTL attribute


def test_posting_refuses_other_peoples_media_wrong_purpose_unready_and_reused(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    owner, other = make_account("owner"), make_account("other")

    def status(account: Account, media_id: str) -> int:
        body = json.dumps({"media_id": media_id})
        return client.http.post("/stories", headers=account.auth, body=body).status_code

    theirs = make_ready_media(other, "story")
    assert status(owner, theirs) == 403
    assert status(owner, make_ready_media(owner, "post")) == 409
    pending = client.http.post(
        "/media/uploads",
        headers=owner.auth,
        body=json.dumps({"content_type": "image/jpeg", "size_bytes": 100, "purpose": "story"}),
    ).json_body["media_id"]
    assert status(owner, pending) == 409
    assert status(owner, "no-such-media") == 404
    mine = make_ready_media(owner, "story")
    assert status(owner, mine) == 201
    assert status(owner, mine) == 409  # one story per photo


def test_an_idempotency_key_replays_the_first_story(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    owner = make_account("owner")
    media_id = make_ready_media(owner, "story")
    first = post_story(client, owner, media_id, **{"Idempotency-Key": "story-key-1"})
    again = client.http.post(
        "/stories",
        headers={**owner.auth, "Idempotency-Key": "story-key-1"},
        body=json.dumps({"media_id": media_id}),
    )
    assert again.status_code == 201
    assert again.json_body == first
    assert again.headers.get("Idempotent-Replayed") == "true"


# --- the tray, views and viewers ------------------------------------------------------------


def test_followers_see_the_story_in_their_tray_and_strangers_do_not(
    client: Client, make_account, make_ready_media, plumbing
) -> None:  # type: ignore[no-untyped-def]
    owner, follower, stranger = make_account("owner"), make_account("fan"), make_account("x")
    follow(client, follower, owner)
    assert plumbing.wait_until_idle(timeout=30)
    story = post_story(client, owner, make_ready_media(owner, "story"))
    assert plumbing.wait_until_idle(timeout=30)

    [group] = tray(client, follower)
    assert group["user"]["user_id"] == owner.user_id
    [shown] = group["stories"]
    assert shown["story_id"] == story["story_id"]
    assert shown["expires_at"] == story["expires_at"]
    assert shown["seen"] is False
    assert set(shown["media"]["renditions"]) >= {"thumb", "large"}
    assert tray_ids(client, owner) == [(owner.user_id, [story["story_id"]])]
    assert tray(client, stranger) == []
    # A public account's stories are anyone's to open from the profile.
    assert user_story_ids(client, stranger, owner) == [story["story_id"]]


def test_the_tray_puts_mine_first_then_unseen_then_most_recent(
    client: Client, make_account, make_ready_media, plumbing
) -> None:  # type: ignore[no-untyped-def]
    me, early, late = make_account("me"), make_account("early"), make_account("late")
    follow(client, me, early)
    follow(client, me, late)
    assert plumbing.wait_until_idle(timeout=30)
    early_story = post_story(client, early, make_ready_media(early, "story"))["story_id"]
    late_story = post_story(client, late, make_ready_media(late, "story"))["story_id"]
    mine = post_story(client, me, make_ready_media(me, "story"))["story_id"]
    assert plumbing.wait_until_idle(timeout=30)

    assert tray_ids(client, me) == [
        (me.user_id, [mine]),
        (late.user_id, [late_story]),
        (early.user_id, [early_story]),
    ]
    assert view(client, me, late_story) == 204
    assert tray_ids(client, me) == [
        (me.user_id, [mine]),
        (early.user_id, [early_story]),
        (late.user_id, [late_story]),  # seen: last
    ]
    assert tray(client, me)[2]["stories"][0]["seen"] is True


def tray_page(client: Client, viewer: Account, query: str) -> dict:
    response = client.http.get(f"/stories/feed{query}", headers=viewer.auth)
    assert response.status_code == 200, response.body
    return response.json_body


def test_the_tray_pages_over_accounts_in_its_order_with_a_bounded_read_per_page(
    client: Client, make_account, make_ready_media, plumbing
) -> None:  # type: ignore[no-untyped-def]
    """Given a reader with a story of their own and five followed accounts with stories,
    one of them seen, when the tray is read two accounts at a time, then the pages follow
    the tray's order without gaps or repeats, and each page reads only its own accounts."""
    me = make_account("me")
    followed = [make_account("acct") for _ in range(5)]
    for account in followed:
        follow(client, me, account)
    assert plumbing.wait_until_idle(timeout=30)
    stories = {
        account.user_id: post_story(client, account, make_ready_media(account, "story"))["story_id"]
        for account in [*followed, me]
    }
    assert plumbing.wait_until_idle(timeout=30)
    newest_other = followed[-1].user_id
    assert view(client, me, stories[newest_other]) == 204
    # Yours; then the unseen, newest first; then the seen one.
    expected = [me.user_id, *[a.user_id for a in reversed(followed[:-1])], newest_other]

    pages, query = [], "?limit=2"
    batches: list[dict] = []
    with BatchGetCapture(batches):
        while True:
            page = tray_page(client, me, query)
            pages.append([group["user"]["user_id"] for group in page["items"]])
            if page["next_cursor"] is None:
                break
            query = f"?limit=2&cursor={page['next_cursor']}"
    assert pages == [expected[0:2], expected[2:4], expected[4:6]]
    # One BatchGetItem per page, naming the stories of that page's two accounts only.
    assert len(batches) == 3
    for batch, owners in zip(batches, pages, strict=True):
        read = {key["story_id"]["S"] for key in batch[get_settings_table("stories_table")]["Keys"]}
        assert read == {stories[owner] for owner in owners if owner != me.user_id} | (
            {stories[me.user_id]} if me.user_id in owners else set()
        )
    seen = {group["user"]["user_id"]: group["stories"][0]["seen"] for group in tray(client, me)}
    assert seen[newest_other] is True and seen[followed[0].user_id] is False


def get_settings_table(name: str) -> str:
    from chalicelib.core.config import get_settings

    return str(getattr(get_settings(), name))


class BatchGetCapture:
    """Records the RequestItems of every BatchGetItem the app sends meanwhile."""

    def __init__(self, into: list[dict]) -> None:
        from tests.support import dynamodb_clients

        self.into = into
        self.clients = dynamodb_clients()

    def __enter__(self) -> BatchGetCapture:
        for client in self.clients:
            client.meta.events.register("provide-client-params.dynamodb.BatchGetItem", self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        for client in self.clients:
            client.meta.events.unregister("provide-client-params.dynamodb.BatchGetItem", self._note)

    def _note(self, params, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.into.append(params["RequestItems"])


def test_a_view_counts_once_and_only_the_owner_lists_viewers(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    owner, first, second = make_account("owner"), make_account("v1"), make_account("v2")
    story_id = post_story(client, owner, make_ready_media(owner, "story"))["story_id"]
    assert view(client, first, story_id) == 204
    assert view(client, first, story_id) == 204  # idempotent
    assert view(client, second, story_id) == 204
    assert view(client, owner, story_id) == 204  # not counted

    listed = client.http.get(f"/stories/{story_id}/viewers?limit=1", headers=owner.auth)
    assert listed.status_code == 200, listed.body
    page = listed.json_body
    assert [v["user"]["user_id"] for v in page["items"]] == [second.user_id]  # newest first
    rest = client.http.get(
        f"/stories/{story_id}/viewers?limit=1&cursor={page['next_cursor']}", headers=owner.auth
    ).json_body
    assert [v["user"]["user_id"] for v in rest["items"]] == [first.user_id]

    assert client.http.get(f"/stories/{story_id}/viewers", headers=first.auth).status_code == 403
    assert view(client, first, "01JD0000000000000000000000_nobody") == 404


def test_a_private_accounts_stories_are_for_its_followers_only(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    owner, follower, stranger = make_account("priv"), make_account("fan"), make_account("x")
    follow(client, follower, owner)
    made_private = client.http.patch(
        "/users/me", headers=owner.auth, body=json.dumps({"is_private": True})
    )
    assert made_private.status_code == 200, made_private.body
    story_id = post_story(client, owner, make_ready_media(owner, "story"))["story_id"]

    assert user_story_ids(client, follower, owner) == [story_id]
    assert view(client, follower, story_id) == 204
    path = f"/users/{owner.user_id}/stories"
    assert client.http.get(path, headers=stranger.auth).status_code == 403
    assert view(client, stranger, story_id) == 403


def test_unfollowing_hides_the_accounts_stories_on_the_next_tray_read(
    client: Client, make_account, make_ready_media, plumbing
) -> None:  # type: ignore[no-untyped-def]
    owner, reader = make_account("owner"), make_account("reader")
    follow(client, reader, owner)
    assert plumbing.wait_until_idle(timeout=30)
    story_id = post_story(client, owner, make_ready_media(owner, "story"))["story_id"]
    assert plumbing.wait_until_idle(timeout=30)
    assert tray_ids(client, reader) == [(owner.user_id, [story_id])]

    client.http.delete(f"/users/{owner.user_id}/follow", headers=reader.auth)
    assert tray(client, reader) == []


def test_a_new_follow_brings_the_followees_active_stories_into_the_tray(
    client: Client, make_account, make_ready_media, plumbing
) -> None:  # type: ignore[no-untyped-def]
    owner, reader = make_account("owner"), make_account("reader")
    story_id = post_story(client, owner, make_ready_media(owner, "story"))["story_id"]
    assert plumbing.wait_until_idle(timeout=30)
    follow(client, reader, owner)
    assert plumbing.wait_until_idle(timeout=30)
    assert tray_ids(client, reader) == [(owner.user_id, [story_id])]


def test_a_tray_costs_the_same_few_requests_whatever_the_following(
    client: Client, make_account, make_ready_media, plumbing, setting
) -> None:  # type: ignore[no-untyped-def]
    """Given a reader following 4 regular accounts and 2 celebrities, each with a story,
    when the reader opens the tray, then it costs 1 tray Query, 1 celebrities Query,
    1 Query per celebrity and 1 BatchGetItem."""
    from chalicelib.core.config import get_settings

    setting("FANOUT_THRESHOLD", 2)
    reader, extra = make_account("reader"), make_account("extra")
    regulars = [make_account("reg") for _ in range(4)]
    stars = [make_account("star") for _ in range(2)]
    for star in stars:
        follow(client, reader, star)
        follow(client, extra, star)  # the second follower makes a celebrity at threshold 2
    for regular in regulars:
        follow(client, reader, regular)
    assert plumbing.wait_until_idle(timeout=30)
    for owner in [*regulars, *stars]:
        post_story(client, owner, make_ready_media(owner, "story"))
    assert plumbing.wait_until_idle(timeout=30)

    with DynamoDBCallCounter() as counter:
        groups = tray(client, reader)
    assert {group["user"]["user_id"] for group in groups} == {
        account.user_id for account in [*regulars, *stars]
    }
    assert counter.count("Query") == 1 + 1 + len(stars)
    assert counter.count("BatchGetItem") == 1
    assert len(counter.calls) == 1 + 1 + len(stars) + 1, counter.calls
    stored = boto3.client("dynamodb").query(
        TableName=get_settings().story_trays_table,
        KeyConditionExpression="viewer_id = :v",
        ExpressionAttributeValues={":v": {"S": reader.user_id}},
    )["Items"]
    assert {item["owner_id"]["S"] for item in stored} == {r.user_id for r in regulars}


# --- expiry ---------------------------------------------------------------------------------


def test_no_read_returns_an_expired_story_while_its_item_is_still_stored(
    client: Client, make_account, make_ready_media, plumbing, setting
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings

    setting("STORY_TTL_SECONDS", 6)
    owner, follower = make_account("owner"), make_account("fan")
    follow(client, follower, owner)
    assert plumbing.wait_until_idle(timeout=30)
    created = post_story(client, owner, make_ready_media(owner, "story"))
    story_id = created["story_id"]
    assert plumbing.wait_until_idle(timeout=30)
    assert tray_ids(client, follower) == [(owner.user_id, [story_id])]
    assert user_story_ids(client, follower, owner) == [story_id]

    time.sleep(max(0.0, parse_time(created["expires_at"]).timestamp() - time.time()) + 0.05)

    key = {"owner_id": {"S": owner.user_id}, "story_id": {"S": story_id}}
    dynamodb = boto3.client("dynamodb")
    assert "Item" in dynamodb.get_item(TableName=get_settings().stories_table, Key=key)
    assert tray(client, follower) == []
    assert tray(client, owner) == []
    assert user_story_ids(client, follower, owner) == []
    assert user_story_ids(client, owner, owner) == []
    assert view(client, follower, story_id) == 404


# --- clean-up -------------------------------------------------------------------------------


def test_the_ttl_remove_sample_matches_the_powertools_model() -> None:
    parsed = DynamoDBStreamModel.model_validate(load_event(TTL_REMOVE_SAMPLE))
    record = parsed.Records[0]
    assert record.eventName == "REMOVE"
    assert record.userIdentity is not None
    assert record.userIdentity.type == "Service"
    assert record.userIdentity.principalId == "dynamodb.amazonaws.com"


def test_a_ttl_remove_record_schedules_the_purge_of_the_storys_media(
    chalice_app,  # type: ignore[no-untyped-def]
) -> None:
    from chalicelib.core.config import get_settings
    from chalicelib.stories.domain import expiry_hour, from_epoch

    event = copy.deepcopy(load_event(TTL_REMOVE_SAMPLE))
    old = event["Records"][0]["dynamodb"]["OldImage"]
    old["owner_id"]["S"] = owner_id = f"owner-{time.time_ns()}"
    expires_at = int(old["expires_at"]["N"])

    response = chalice_app.handler_map["stories_stream"](event, LambdaContext("stories_stream"))
    assert response == {"batchItemFailures": []}

    due = from_epoch(expires_at + get_settings().story_media_retention_seconds)
    items = boto3.client("dynamodb").query(
        TableName=get_settings().story_purges_table,
        KeyConditionExpression="due_hour = :h",
        ExpressionAttributeValues={":h": {"S": expiry_hour(due)}},
    )["Items"]
    [purge] = [item for item in items if item["owner_id"]["S"] == owner_id]
    assert purge["media_id"]["S"] == old["media"]["M"]["media_id"]["S"]
    assert int(purge["due_at"]["N"]) == int(due.timestamp())
    # Redelivered: the same purge, not a second one.
    again = chalice_app.handler_map["stories_stream"](event, LambdaContext("stories_stream"))
    assert again == {"batchItemFailures": []}
    items = boto3.client("dynamodb").query(
        TableName=get_settings().story_purges_table,
        KeyConditionExpression="due_hour = :h",
        ExpressionAttributeValues={":h": {"S": expiry_hour(due)}},
    )["Items"]
    assert len([item for item in items if item["owner_id"]["S"] == owner_id]) == 1


def test_the_sweeper_deletes_expired_stories_and_then_their_media(
    client: Client, make_account, make_ready_media, plumbing, setting
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings

    setting("STORY_TTL_SECONDS", 1)
    setting("STORY_MEDIA_RETENTION_SECONDS", 0)
    owner = make_account("owner")
    media_id = make_ready_media(owner, "story")
    created = post_story(client, owner, media_id)
    settings = get_settings()
    s3 = boto3.client("s3")
    keys = objects_of_media(s3, media_id, settings.media_bucket)
    assert len(keys) == 5  # the original and four renditions
    time.sleep(max(0.0, parse_time(created["expires_at"]).timestamp() - time.time()) + 0.05)

    assert plumbing.run_schedule("sweep_stories")["stories_swept"] >= 1
    assert plumbing.wait_until_idle(timeout=30)  # the REMOVE record schedules the purge
    assert plumbing.run_schedule("sweep_stories")["media_purged"] >= 1
    assert plumbing.wait_until_idle(timeout=30)  # the media's REMOVE deletes its objects

    dynamodb = boto3.client("dynamodb")
    key = {"owner_id": {"S": owner.user_id}, "story_id": {"S": created["story_id"]}}
    assert "Item" not in dynamodb.get_item(TableName=settings.stories_table, Key=key)
    assert objects_of_media(s3, media_id, settings.media_bucket) == []
    media_key = {"media_id": {"S": media_id}}
    assert "Item" not in dynamodb.get_item(TableName=settings.media_table, Key=media_key)
    # Nothing is left to do: a second run finds nothing.
    assert plumbing.run_schedule("sweep_stories") == {"stories_swept": 0, "media_purged": 0}
