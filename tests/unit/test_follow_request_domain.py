"""What a follow request means as a notification: pure logic."""

from __future__ import annotations

import pytest
from chalicelib.follows.domain import FollowRequest
from chalicelib.notifications.domain import (
    NotificationType,
    UnreadableRecord,
    follow_notifications,
    follow_request_notifications,
)

AT = "2026-11-20T10:00:00.123Z"
REQUEST = FollowRequest(target_id="alice", requester_id="bob", requested_at=AT)


def test_a_request_tells_its_target_who_asked() -> None:
    [told] = follow_request_notifications(REQUEST.as_item())
    assert (told.recipient_id, told.type, told.actor_id) == (
        "alice",
        NotificationType.FOLLOW_REQUEST,
        "bob",
    )
    assert told.created_at == AT
    assert told.key.startswith(f"{AT}#")


def test_the_same_request_names_the_same_notification_and_a_new_one_another() -> None:
    [first] = follow_request_notifications(REQUEST.as_item())
    assert follow_request_notifications(dict(REQUEST.as_item()))[0].key == first.key
    again = FollowRequest("alice", "bob", "2026-11-20T10:00:05.000Z")
    assert follow_request_notifications(again.as_item())[0].key != first.key


def test_a_request_and_the_follow_it_becomes_are_two_notifications() -> None:
    [asked] = follow_request_notifications(REQUEST.as_item())
    edge = {"follower_id": "bob", "followee_id": "alice", "followed_at": AT}
    [followed] = follow_notifications(edge)
    assert asked.key != followed.key


def test_a_request_missing_a_field_is_unreadable() -> None:
    with pytest.raises(UnreadableRecord):
        follow_request_notifications({"target_id": "alice", "requested_at": AT})
