"""The home feed: fan-out on write through the posts stream and the fan-out queue, celebrity
posts merged at read time, and what follows and deletes do to it."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from chalice.test import Client

from local.event_plumbing import EventPlumbing
from tests.support import Account, create_post


@pytest.fixture(scope="module")
def plumbing(chalice_app) -> Iterator[EventPlumbing]:  # type: ignore[no-untyped-def]
    with EventPlumbing(chalice_app) as running:
        assert running.wait_until_idle(timeout=60)
        yield running


@pytest.fixture
def threshold(monkeypatch):  # type: ignore[no-untyped-def]
    """Lower FANOUT_THRESHOLD for one test, as the local stack's environment can."""
    from chalicelib.core.config import get_settings

    def lower(value: int) -> None:
        monkeypatch.setenv("FANOUT_THRESHOLD", str(value))
        get_settings.cache_clear()

    yield lower
    monkeypatch.delenv("FANOUT_THRESHOLD", raising=False)
    get_settings.cache_clear()


def follow(client: Client, follower: Account, followee: Account) -> None:
    assert (
        client.http.post(f"/users/{followee.user_id}/follow", headers=follower.auth).status_code
        == 200
    )


def feed(client: Client, reader: Account, query: str = "") -> dict:
    response = client.http.get(f"/feed{query}", headers=reader.auth)
    assert response.status_code == 200, response.body
    return response.json_body


def stored_entries(reader: Account) -> list[dict]:
    """The reader's feed items as stored, read straight from the table."""
    from chalicelib.core.config import get_settings

    return boto3.client("dynamodb").query(
        TableName=get_settings().feeds_table,
        KeyConditionExpression="owner_id = :r",
        ExpressionAttributeValues={":r": {"S": reader.user_id}},
    )["Items"]


def feed_ids(client: Client, reader: Account) -> list[str]:
    return [item["post_id"] for item in feed(client, reader, "?limit=50")["items"]]


def test_a_post_reaches_followers_and_its_author_but_not_strangers(
    client: Client,
    make_account,
    make_ready_media,
    plumbing,  # type: ignore[no-untyped-def]
) -> None:
    author, follower, stranger = make_account("a"), make_account("b"), make_account("c")
    follow(client, follower, author)
    post_id = create_post(client, author, make_ready_media(author), "hello #feed")
    assert plumbing.wait_until_idle(timeout=30)

    assert feed_ids(client, follower) == [post_id]
    assert feed_ids(client, author) == [post_id]
    assert feed_ids(client, stranger) == []
    item = feed(client, follower)["items"][0]
    assert item["author"]["user_id"] == author.user_id
    assert item["liked_by_me"] is False


def test_unfollow_removes_the_authors_posts_from_the_very_next_read(
    client: Client,
    make_account,
    make_ready_media,
    plumbing,  # type: ignore[no-untyped-def]
) -> None:
    author, reader = make_account("a"), make_account("b")
    follow(client, reader, author)
    create_post(client, author, make_ready_media(author))
    assert plumbing.wait_until_idle(timeout=30)
    assert len(feed_ids(client, reader)) == 1

    client.http.delete(f"/users/{author.user_id}/follow", headers=reader.auth)
    assert feed_ids(client, reader) == []  # before the stream has caught up
    assert plumbing.wait_until_idle(timeout=30)
    assert feed_ids(client, reader) == []


def test_a_deleted_post_leaves_feeds_from_the_very_next_read(
    client: Client,
    make_account,
    make_ready_media,
    plumbing,  # type: ignore[no-untyped-def]
) -> None:

    author, reader = make_account("a"), make_account("b")
    follow(client, reader, author)
    post_id = create_post(client, author, make_ready_media(author))
    assert plumbing.wait_until_idle(timeout=30)
    assert client.http.delete(f"/posts/{post_id}", headers=author.auth).status_code == 204
    assert feed_ids(client, reader) == []
    assert plumbing.wait_until_idle(timeout=30)
    assert stored_entries(reader) == []  # the stream consumer removed the entry too


def test_a_follow_backfills_the_followees_recent_posts(
    client: Client,
    make_account,
    make_ready_media,
    plumbing,  # type: ignore[no-untyped-def]
) -> None:
    author, reader = make_account("a"), make_account("b")
    posted = [create_post(client, author, make_ready_media(author)) for _ in range(3)]
    assert plumbing.wait_until_idle(timeout=30)
    follow(client, reader, author)
    assert plumbing.wait_until_idle(timeout=30)
    assert feed_ids(client, reader) == list(reversed(posted))


def test_a_celebritys_posts_are_merged_in_time_order_not_fanned_out(
    client: Client,
    make_account,
    make_ready_media,
    plumbing,
    threshold,  # type: ignore[no-untyped-def]
) -> None:

    threshold(2)
    star, regular, reader, other = (make_account(p) for p in ("star", "reg", "reader", "other"))
    follow(client, reader, star)
    follow(client, other, star)  # the second follower makes a celebrity at threshold 2
    follow(client, reader, regular)
    assert plumbing.wait_until_idle(timeout=30)

    order = []
    for author in (regular, star, regular, star):
        order.append(create_post(client, author, make_ready_media(author)))
    assert plumbing.wait_until_idle(timeout=30)

    assert feed_ids(client, reader) == list(reversed(order))
    assert {item["author_id"]["S"] for item in stored_entries(reader)} == {regular.user_id}


def test_paging_while_new_posts_arrive_has_no_duplicates_or_gaps(
    client: Client,
    make_account,
    make_ready_media,
    plumbing,  # type: ignore[no-untyped-def]
) -> None:
    author, reader = make_account("a"), make_account("b")
    follow(client, reader, author)
    posted = [create_post(client, author, make_ready_media(author)) for _ in range(22)]
    assert plumbing.wait_until_idle(timeout=60)

    seen: list[str] = []
    page = feed(client, reader, "?limit=10")
    while True:
        seen += [item["post_id"] for item in page["items"]]
        create_post(client, author, make_ready_media(author))  # a new post arrives at the head
        assert plumbing.wait_until_idle(timeout=30)
        if page["next_cursor"] is None:
            break
        page = feed(client, reader, f"?limit=10&cursor={page['next_cursor']}")
    assert seen == list(reversed(posted))
