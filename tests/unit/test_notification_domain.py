"""What each source item means as notifications, and the ids clients hand back: pure logic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from chalicelib.core.errors import NotFound
from chalicelib.notifications.domain import (
    Notification,
    NotificationType,
    UnreadableRecord,
    changes,
    comment_notifications,
    decode_notification_id,
    encode_notification_id,
    follow_notifications,
    is_read,
    like_notifications,
    post_notifications,
)

AT = "2026-11-20T10:00:00.123Z"
LIKE = {"post_id": "p1", "user_id": "bob", "post_author_id": "alice", "created_at": AT}


def test_a_notification_key_is_its_time_then_a_digest_of_what_happened() -> None:
    [liked] = like_notifications(LIKE)
    assert liked.key.startswith(f"{AT}#")
    assert liked.key == like_notifications(dict(LIKE))[0].key  # the same record, the same key
    assert liked.key != like_notifications({**LIKE, "post_id": "p2"})[0].key
    assert liked.key != like_notifications({**LIKE, "user_id": "carol"})[0].key


def test_the_same_act_on_two_objects_or_of_two_kinds_never_shares_a_key() -> None:
    comment = {
        "post_id": "p1",
        "comment_id": "c1",
        "author_id": "bob",
        "post_author_id": "alice",
        "created_at": AT,
        "mentions": ["alice"],
    }
    told = comment_notifications(comment)
    assert [(n.recipient_id, n.type) for n in told] == [
        ("alice", NotificationType.COMMENT),
        ("alice", NotificationType.MENTION),
    ]
    assert told[0].key != told[1].key


def test_nobody_is_told_of_their_own_act_nor_told_twice() -> None:
    assert like_notifications({**LIKE, "user_id": "alice"}) == []
    assert follow_notifications({"follower_id": "a", "followee_id": "a", "followed_at": AT}) == []
    post = {
        "post_id": "p1",
        "author_id": "alice",
        "created_at": AT,
        "mentions": [
            {"user_id": "bob", "username": "bob"},
            {"user_id": "alice", "username": "alice"},
            {"user_id": "bob", "username": "bob"},
        ],
    }
    assert [n.recipient_id for n in post_notifications(post)] == ["bob"]


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        ("2026-11-20T10:00:00.123Z", "2026-11-20T10:00:00.123Z"),
        ("2026-11-20T10:00:00.123456+0000", "2026-11-20T10:00:00.123Z"),  # PynamoDB's format
        ("2026-11-20T11:00:00+01:00", "2026-11-20T10:00:00.000Z"),
        (Decimal("1795168800.5"), "2026-11-20T10:00:00.500Z"),
    ],
)
def test_source_times_are_read_in_the_forms_items_store_them(created_at, expected) -> None:  # type: ignore[no-untyped-def]
    assert like_notifications({**LIKE, "created_at": created_at})[0].created_at == expected


@pytest.mark.parametrize(
    "broken",
    [
        {"created_at": "yesterday"},
        {"created_at": "2026-11-20T10:00:00"},  # no zone: which time would it be?
        {"created_at": True},
        {"post_author_id": ""},
        {"post_author_id": 7},
        {"user_id": None},
    ],
)
def test_an_item_without_what_a_notification_needs_is_unreadable(broken: dict) -> None:
    with pytest.raises(UnreadableRecord):
        like_notifications({**LIKE, **broken})


@pytest.mark.parametrize("mentions", ["alice", [""], [{"username": "x"}], [3]])
def test_mentions_must_name_users(mentions: object) -> None:
    with pytest.raises(UnreadableRecord):
        post_notifications(
            {"post_id": "p", "author_id": "a", "created_at": AT, "mentions": mentions}
        )


def test_a_change_stores_what_is_new_and_withdraws_what_is_gone() -> None:
    def mention(recipient: str) -> Notification:
        return Notification(recipient, NotificationType.MENTION, "alice", AT, "p1")

    diff = changes([mention("bob"), mention("carol")], [mention("carol"), mention("dan")])
    assert [n.recipient_id for n in diff.stored] == ["dan"]
    assert [n.recipient_id for n in diff.withdrawn] == ["bob"]
    same = changes([mention("bob")], [mention("bob")])
    assert same.stored == same.withdrawn == []


def test_a_notification_id_round_trips_and_reveals_nothing_readable() -> None:
    [liked] = like_notifications(LIKE)
    assert decode_notification_id(liked.notification_id) == liked.key
    assert "#" not in liked.notification_id and ":" not in liked.notification_id


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        "x" * 500,
        encode_notification_id("not-a-key"),
        encode_notification_id("2026-11-20T10:00:00.123Z#XYZ"),
        encode_notification_id("2026-11-20T10:00:00.123Z#0123456789abcdef") + "=",
        "é" * 10,
    ],
)
def test_an_id_this_service_did_not_issue_names_nothing(garbage: str) -> None:
    with pytest.raises(NotFound):
        decode_notification_id(garbage)


def test_read_means_at_or_before_the_marker() -> None:
    older, newer = (
        like_notifications({**LIKE, "created_at": at})[0]
        for at in ("2026-11-20T10:00:00.000Z", "2026-11-20T10:00:01.000Z")
    )
    assert not is_read(older, None)
    assert is_read(older, older.key) and not is_read(newer, older.key)
    assert is_read(older, newer.key) and is_read(newer, newer.key)
