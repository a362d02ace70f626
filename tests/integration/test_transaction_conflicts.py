"""DynamoDB cancels racing transactions with TransactionConflict; moto never does. Here the
real botocore client answers the first calls with the cancellation AWS would send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from chalicelib.core.errors import DependencyUnavailable


@pytest.fixture
def conflicts(embedded_aws) -> Iterator[dict[str, int]]:  # type: ignore[no-untyped-def]
    """Cancel the next ``remaining`` TransactWriteItems calls as conflicting."""
    from chalicelib.core.config import get_settings
    from chalicelib.core.dynamodb import _connection

    client = _connection(get_settings().aws_region).client
    state = {"remaining": 0, "cancelled": 0}

    def cancel(model, params, **kwargs):  # type: ignore[no-untyped-def]
        if state["remaining"] == 0:
            return None
        state["remaining"] -= 1
        state["cancelled"] += 1
        reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (
            len(json.loads(params["body"])["TransactItems"]) - 1
        )
        error = {
            "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return SimpleNamespace(status_code=400, headers={}, text="", content=b""), error

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", cancel)
    yield state
    client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", cancel)


def test_a_conflicted_follow_is_retried_and_counted_once(conflicts, make_account) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.follows import service
    from chalicelib.users import repository as users

    alice, bob = make_account("alice"), make_account("bob")
    conflicts["remaining"] = 3
    assert service.follow(alice.user_id, bob.user_id) == "following"
    assert conflicts["cancelled"] == 3
    assert users.get_user(bob.user_id).follower_count == 1
    assert users.get_user(alice.user_id).following_count == 1


def test_endless_conflicts_end_in_a_retryable_error_and_no_change(conflicts, make_account) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.follows import service
    from chalicelib.users import repository as users

    alice, bob = make_account("alice"), make_account("bob")
    conflicts["remaining"] = 1000
    with pytest.raises(DependencyUnavailable):
        service.follow(alice.user_id, bob.user_id)
    assert conflicts["cancelled"] == 8
    assert users.get_user(bob.user_id).follower_count == 0
