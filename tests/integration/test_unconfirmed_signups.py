"""Sign-ups awaiting their emailed code (SIGNUP_CONFIRMATION on, as on AWS), through the real
routes, moto's Cognito, the users stream and the clean-up schedule.

An unconfirmed account is invisible (not found by id or name, not followable, not in
search); its username and email stay reserved for the grace period
(SIGNUP_CONFIRMATION_GRACE_SECONDS), after which a newer sign-up may take either over, and
the clean-up schedule removes the account: its Cognito user, its profile, its reservations.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from chalice.test import Client

from local.event_plumbing import EventPlumbing
from tests.support import TEST_PASSWORD, Account, unique_username

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def plumbing(chalice_app) -> Iterator[EventPlumbing]:  # type: ignore[no-untyped-def]
    # The clean-up runs when a test says so, not on a timer.
    with EventPlumbing(chalice_app, fire_schedules_on_timer=False) as running:
        assert running.wait_until_idle(timeout=60)
        yield running


@pytest.fixture
def confirmation(monkeypatch) -> Iterator[Callable[..., None]]:  # type: ignore[no-untyped-def]
    """``confirmation(grace_seconds=...)``: from now on sign-ups wait for their code, as on
    AWS, and keep their names for that grace period (the default's 24 h when not given)."""
    from chalicelib.core.config import reload_settings

    def turn_on(grace_seconds: int | None = None) -> None:
        monkeypatch.setenv("SIGNUP_CONFIRMATION", "true")
        if grace_seconds is None:
            monkeypatch.delenv("SIGNUP_CONFIRMATION_GRACE_SECONDS", raising=False)
        else:
            monkeypatch.setenv("SIGNUP_CONFIRMATION_GRACE_SECONDS", str(grace_seconds))
        reload_settings()

    yield turn_on
    monkeypatch.undo()
    reload_settings()


def post(client: Client, path: str, payload: object, account: Account | None = None) -> Any:
    headers = account.auth if account else JSON
    return client.http.post(path, headers=headers, body=json.dumps(payload))


def sign_up(client: Client, username: str, email: str | None = None) -> Any:
    payload = {"username": username, "email": email or f"{username}@example.com"}
    return post(client, "/auth/signup", {**payload, "password": TEST_PASSWORD})


def confirm(client: Client, username: str) -> Any:
    # moto accepts any code; AWS checks it against the emailed one.
    return post(client, "/auth/confirm", {"username": username, "code": "123456"})


def log_in(client: Client, username: str) -> Any:
    return post(client, "/auth/login", {"username": username, "password": TEST_PASSWORD})


def found_in_search(client: Client, viewer: Account, username: str) -> list[str]:
    response = client.http.get(f"/search?type=users&q={username}", headers=viewer.auth)
    assert response.status_code == 200, response.body
    return [user["user_id"] for user in response.json_body["items"]]


def settings() -> Any:
    from chalicelib.core.config import get_settings

    return get_settings()


def cognito_user(username: str) -> Any:
    try:
        return boto3.client("cognito-idp").admin_get_user(
            UserPoolId=settings().user_pool_id, Username=username
        )
    except boto3.client("cognito-idp").exceptions.UserNotFoundException:
        return None


def reservation(kind: str, value: str) -> Any:
    found = boto3.client("dynamodb").get_item(
        TableName=settings().uniques_table,
        Key={"value_key": {"S": f"{kind}#{value}"}},
        ConsistentRead=True,
    )
    return found.get("Item")


def profile_item(user_id: str) -> Any:
    found = boto3.client("dynamodb").get_item(
        TableName=settings().users_table, Key={"user_id": {"S": user_id}}, ConsistentRead=True
    )
    return found.get("Item")


def test_an_unconfirmed_account_is_invisible_until_it_is_confirmed(
    plumbing: EventPlumbing, client: Client, make_account, confirmation
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_account("viewer")
    confirmation()
    username = unique_username("waiting")
    created = sign_up(client, username)
    assert created.status_code == 201, created.body
    user_id = created.json_body["user_id"]
    assert plumbing.wait_until_idle(timeout=30)

    # Not found by id or by name, not followable, blockable or messageable, not in search
    assert client.http.get(f"/users/{user_id}", headers=viewer.auth).status_code == 404
    by_name = client.http.get(f"/users/by-username/{username}", headers=viewer.auth)
    assert by_name.status_code == 404
    assert client.http.get(f"/users/{user_id}/posts", headers=viewer.auth).status_code == 404
    assert post(client, f"/users/{user_id}/follow", {}, viewer).status_code == 404
    assert post(client, f"/users/{user_id}/block", {}, viewer).status_code == 404
    message = {"to": user_id, "text": "hello?", "client_id": unique_username("c")}
    assert post(client, "/messages", message, viewer).status_code == 404
    assert found_in_search(client, viewer, username) == []
    assert (
        client.http.get(f"/users/{viewer.user_id}", headers=viewer.auth).json_body[
            "following_count"
        ]
        == 0
    )

    confirmed = confirm(client, username)
    assert confirmed.status_code == 200, confirmed.body
    assert plumbing.wait_until_idle(timeout=30)

    # Then it is an account like any other
    assert client.http.get(f"/users/{user_id}", headers=viewer.auth).status_code == 200
    by_name = client.http.get(f"/users/by-username/{username}", headers=viewer.auth)
    assert by_name.json_body["user_id"] == user_id
    assert post(client, f"/users/{user_id}/follow", {}, viewer).json_body == {"status": "following"}
    assert found_in_search(client, viewer, username) == [user_id]
    session = log_in(client, username)
    assert session.status_code == 200, session.body
    assert session.json_body["user_id"] == user_id
    # Confirming again changes nothing (moto confirms again; AWS answers 400)
    assert confirm(client, username).status_code in (200, 400)
    assert client.http.get(f"/users/{user_id}", headers=viewer.auth).status_code == 200


def test_an_unconfirmed_accounts_names_stay_reserved_during_the_grace_period(
    client: Client, confirmation
) -> None:  # type: ignore[no-untyped-def]
    confirmation()
    username = unique_username("early")
    assert sign_up(client, username).status_code == 201

    same_name = sign_up(client, username, f"other-{username}@example.com")
    same_email = sign_up(client, unique_username("early"), f"{username}@example.com")

    assert same_name.status_code == 409, same_name.body
    assert "taken" in same_name.json_body["Message"]
    assert same_email.status_code == 409, same_email.body
    assert "email" in same_email.json_body["Message"]


def test_a_newer_signup_takes_over_an_unconfirmed_username_after_the_grace_period(
    client: Client, make_account, confirmation
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_account("viewer")
    confirmation(grace_seconds=0)
    username = unique_username("squat")
    first = sign_up(client, username, f"first-{username}@example.com")
    assert first.status_code == 201

    second = sign_up(client, username, f"second-{username}@example.com")

    assert second.status_code == 201, second.body
    new_id, old_id = second.json_body["user_id"], first.json_body["user_id"]
    assert new_id != old_id
    # Cognito's user of that name is the newer sign-up's now
    attributes = {a["Name"]: a["Value"] for a in cognito_user(username)["UserAttributes"]}
    assert attributes["sub"] == new_id
    assert attributes["email"] == f"second-{username}@example.com"
    assert confirm(client, username).status_code == 200
    assert log_in(client, username).json_body["user_id"] == new_id
    by_name = client.http.get(f"/users/by-username/{username}", headers=viewer.auth)
    assert by_name.json_body["user_id"] == new_id
    assert client.http.get(f"/users/{old_id}", headers=viewer.auth).status_code == 404
    # The older sign-up's email, past its grace too, is anyone's to take
    again = sign_up(client, unique_username("squat"), f"first-{username}@example.com")
    assert again.status_code == 201, again.body


def test_a_newer_signup_takes_over_an_unconfirmed_email_after_the_grace_period(
    client: Client, confirmation
) -> None:  # type: ignore[no-untyped-def]
    confirmation(grace_seconds=0)
    old_name, new_name = unique_username("old"), unique_username("new")
    email = f"{old_name}@example.com"
    assert sign_up(client, old_name, email).status_code == 201

    taken = sign_up(client, new_name, email)

    assert taken.status_code == 201, taken.body
    assert reservation("email", email)["user_id"] == {"S": taken.json_body["user_id"]}
    assert confirm(client, new_name).status_code == 200
    assert log_in(client, new_name).status_code == 200
    # The older account cannot be confirmed any more: its email is someone else's
    late = confirm(client, old_name)
    assert late.status_code == 400, late.body
    assert "sign up again" in late.json_body["Message"]
    assert log_in(client, old_name).status_code in (401, 403)
    assert cognito_user(old_name) is None


def test_the_clean_up_removes_unconfirmed_accounts_past_their_grace_and_nothing_else(
    plumbing: EventPlumbing, client: Client, make_account, confirmation
) -> None:  # type: ignore[no-untyped-def]
    confirmed = make_account("kept")
    confirmation(grace_seconds=0)
    expired, crashed = unique_username("expired"), unique_username("crashed")
    expired_id = sign_up(client, expired).json_body["user_id"]
    crashed_id = sign_up(client, crashed).json_body["user_id"]
    # An earlier run died after deleting this one's Cognito user: the next run carries on
    boto3.client("cognito-idp").admin_delete_user(
        UserPoolId=settings().user_pool_id, Username=crashed
    )
    confirmation()  # 24 h
    waiting = unique_username("waiting")
    waiting_id = sign_up(client, waiting).json_body["user_id"]

    swept = plumbing.run_schedule("sweep_unconfirmed_signups")

    assert swept["accounts_removed"] >= 2
    for username, user_id in ((expired, expired_id), (crashed, crashed_id)):
        assert cognito_user(username) is None
        assert profile_item(user_id) is None
        assert reservation("username", username) is None
        assert reservation("email", f"{username}@example.com") is None
    assert cognito_user(waiting)["UserStatus"] == "UNCONFIRMED"
    assert profile_item(waiting_id) is not None
    assert reservation("username", waiting)["user_id"] == {"S": waiting_id}
    assert client.http.get("/users/me", headers=confirmed.auth).status_code == 200
    assert cognito_user(confirmed.username) is not None
    # Idempotent: a second run finds nothing of these left
    assert plumbing.run_schedule("sweep_unconfirmed_signups") == {"accounts_removed": 0}
    # And the names are free again
    assert sign_up(client, expired).status_code == 201


def test_a_confirmation_whose_profile_step_failed_finishes_without_the_code_again(
    client: Client, make_account, confirmation
) -> None:  # type: ignore[no-untyped-def]
    # Given a sign-up whose earlier confirmation got through Cognito but not to the profile
    # (Cognito confirmed it; on AWS a second ConfirmSignUp would now be refused)
    from chalicelib.core.clients import aws_client

    viewer = make_account("viewer")
    confirmation()
    username = unique_username("halfway")
    user_id = sign_up(client, username).json_body["user_id"]
    boto3.client("cognito-idp").admin_confirm_sign_up(
        UserPoolId=settings().user_pool_id, Username=username
    )
    assert client.http.get(f"/users/{user_id}", headers=viewer.auth).status_code == 404
    calls: list[str] = []

    def note(model, **kwargs) -> None:  # type: ignore[no-untyped-def]
        calls.append(model.name)

    cognito = aws_client("cognito-idp")
    cognito.meta.events.register("before-call.cognito-idp", note)
    try:
        # When the client retries
        retried = confirm(client, username)
    finally:
        cognito.meta.events.unregister("before-call.cognito-idp", note)

    # Then the account is confirmed without asking Cognito to check the code again
    assert retried.status_code == 200, retried.body
    assert "AdminGetUser" in calls
    assert "ConfirmSignUp" not in calls
    assert client.http.get(f"/users/{user_id}", headers=viewer.auth).status_code == 200
