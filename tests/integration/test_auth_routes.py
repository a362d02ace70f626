"""Sign-up, log-in, refresh and token checks through the real app and moto's Cognito."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from chalice.test import Client
from moto.utilities.utils import load_resource

from tests.support import TEST_PASSWORD, unique_username

JSON = {"Content-Type": "application/json"}


def post(client: Client, path: str, payload: object, headers: dict | None = None):  # type: ignore[no-untyped-def]
    return client.http.post(path, headers={**JSON, **(headers or {})}, body=json.dumps(payload))


def signup_payload(username: str, **overrides: object) -> dict:
    return {
        "username": username,
        "email": f"{username}@example.com",
        "password": TEST_PASSWORD,
        **overrides,
    }


def moto_signing_key() -> dict:
    """moto signs Cognito tokens with a private key it ships; with it a test can mint tokens
    that are correctly signed but wrong in one other way."""
    return load_resource("cognitoidp/resources/jwks-private.json")


def mint(claims: dict) -> str:
    key = jwt.PyJWK(moto_signing_key())
    return jwt.encode(
        claims, key.key, algorithm="RS256", headers={"kid": moto_signing_key()["kid"]}
    )


def test_health_is_public(client: Client) -> None:
    response = client.http.get("/health")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok"}


def test_signup_then_login_returns_a_working_token(client: Client) -> None:
    username = unique_username("alice")
    signup = post(client, "/auth/signup", signup_payload(username, full_name="Alice A"))
    assert signup.status_code == 201
    assert signup.json_body["username"] == username

    login = post(client, "/auth/login", {"username": username, "password": TEST_PASSWORD})
    assert login.status_code == 200
    session = login.json_body
    assert set(session) == {"token", "refresh_token", "expires_in", "user_id"}
    assert session["user_id"] == signup.json_body["user_id"]

    me = client.http.get("/users/me", headers={"Authorization": f"Bearer {session['token']}"})
    assert me.status_code == 200
    assert me.json_body["username"] == username
    assert me.json_body["full_name"] == "Alice A"


def test_username_is_unique_case_insensitively(client: Client) -> None:
    username = unique_username("bob")
    assert post(client, "/auth/signup", signup_payload(username)).status_code == 201
    again = post(
        client,
        "/auth/signup",
        signup_payload(username.upper(), email=f"other-{username}@example.com"),
    )
    assert again.status_code == 409
    assert again.json_body["Code"] == "ConflictError"
    assert "taken" in again.json_body["Message"]


def test_email_is_unique(client: Client) -> None:
    first = unique_username("carol")
    assert post(client, "/auth/signup", signup_payload(first)).status_code == 201
    clash = post(
        client,
        "/auth/signup",
        signup_payload(unique_username("carol"), email=f"{first.upper()}@example.com"),
    )
    assert clash.status_code == 409
    assert "email" in clash.json_body["Message"]


def test_a_signup_cognito_refuses_releases_both_reservations(client: Client) -> None:
    # Given a name Cognito already holds (an operator created it by hand), which our
    # reservations know nothing of
    import boto3
    from chalicelib.core.config import get_settings

    username = unique_username("dave")
    boto3.client("cognito-idp").admin_create_user(
        UserPoolId=get_settings().user_pool_id, Username=username
    )
    # When someone signs up with it, Cognito refuses
    refused = post(client, "/auth/signup", signup_payload(username))
    assert refused.status_code == 409
    # Then the email reserved on the way is free again, and so is the username reservation
    other = post(
        client,
        "/auth/signup",
        signup_payload(unique_username("dave"), email=f"{username}@example.com"),
    )
    assert other.status_code == 201
    reservation = boto3.client("dynamodb").get_item(
        TableName=get_settings().uniques_table, Key={"value_key": {"S": f"username#{username}"}}
    )
    assert "Item" not in reservation


@pytest.mark.parametrize(
    "username", ["", "has space", "emoji\U0001f600", "a" * 31, "semi;colon", "UPPER-dash"]
)
def test_invalid_usernames_are_refused(client: Client, username: str) -> None:
    response = post(client, "/auth/signup", signup_payload(username, email="x@example.com"))
    assert response.status_code == 400
    assert response.json_body["Message"].startswith("username")


def test_wrong_password_is_401_and_unknown_user_reads_the_same(
    client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    account = make_account()
    wrong = post(client, "/auth/login", {"username": account.username, "password": "not it at all"})
    unknown = post(
        client, "/auth/login", {"username": unique_username("ghost"), "password": "whatever1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json_body == unknown.json_body


def test_refresh_gives_a_new_working_token(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    account = make_account()
    refreshed = post(client, "/auth/refresh", {"refresh_token": account.refresh_token})
    assert refreshed.status_code == 200
    assert refreshed.json_body["expires_in"] > 0
    me = client.http.get(
        "/users/me", headers={"Authorization": f"Bearer {refreshed.json_body['token']}"}
    )
    assert me.status_code == 200
    assert me.json_body["user_id"] == account.user_id


def test_a_garbage_refresh_token_is_401(client: Client) -> None:
    assert post(client, "/auth/refresh", {"refresh_token": "nope"}).status_code == 401


def _claims_like(token: str, **changes: object) -> dict:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(
    "case",
    [
        "no header",
        "not bearer",
        "empty",
        "garbage",
        "tampered payload",
        "expired",
        "id token",
        "other client",
        "other issuer",
        "unknown key",
        "alg none",
    ],
)
def test_bad_tokens_are_401(client: Client, make_account, case: str) -> None:  # type: ignore[no-untyped-def]
    token = make_account().token
    header, _payload, signature = token.split(".")
    now = int(time.time())
    headers = {
        "no header": {},
        "not bearer": {"Authorization": f"Basic {token}"},
        "empty": {"Authorization": "Bearer "},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "tampered payload": {
            "Authorization": "Bearer "
            + ".".join(
                [
                    header,
                    jwt.utils.base64url_encode(
                        json.dumps(_claims_like(token, sub="someone-else")).encode()
                    ).decode(),
                    signature,
                ]
            )
        },
        "expired": {
            "Authorization": "Bearer " + mint(_claims_like(token, exp=now - 60, iat=now - 3660))
        },
        "id token": {"Authorization": "Bearer " + mint(_claims_like(token, token_use="id"))},
        "other client": {
            "Authorization": "Bearer " + mint(_claims_like(token, client_id="another"))
        },
        "other issuer": {
            "Authorization": "Bearer " + mint(_claims_like(token, iss="https://evil.example.com"))
        },
        "unknown key": {
            "Authorization": "Bearer "
            + jwt.encode(_claims_like(token), "s" * 32, algorithm="HS256", headers={"kid": "other"})
        },
        "alg none": {
            # PyJWT signs alg "none" with no key, given as "" (its types do not take None).
            "Authorization": "Bearer " + jwt.encode(_claims_like(token), "", algorithm="none")
        },
    }[case]
    response = client.http.get("/users/me", headers=headers)
    assert response.status_code == 401, response.body
    assert response.json_body["Code"] == "UnauthorizedError"
    assert response.headers.get("WWW-Authenticate") == "Bearer"


def test_a_token_minted_with_moto_key_and_right_claims_is_accepted(
    client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    # Guards the previous test: a failure there must come from the claim changed, not the key.
    account = make_account()
    token = mint(_claims_like(account.token))
    response = client.http.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@pytest.fixture
def confirmation_required(monkeypatch):  # type: ignore[no-untyped-def]
    """The AWS behaviour: Cognito emails a code and the account waits for it."""
    from chalicelib.core.config import get_settings

    monkeypatch.setenv("SIGNUP_CONFIRMATION", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_with_confirmation_on_login_waits_for_the_code(
    client: Client, confirmation_required
) -> None:  # type: ignore[no-untyped-def]
    username = unique_username("erin")
    assert post(client, "/auth/signup", signup_payload(username)).status_code == 201
    early = post(client, "/auth/login", {"username": username, "password": TEST_PASSWORD})
    assert early.status_code == 403
    assert "confirm" in early.json_body["Message"]

    # moto accepts any code (it sends no email); AWS checks it against the emailed one.
    confirmed = post(client, "/auth/confirm", {"username": username, "code": "123456"})
    assert confirmed.status_code == 200
    assert confirmed.json_body == {"status": "confirmed"}
    assert (
        post(client, "/auth/login", {"username": username, "password": TEST_PASSWORD}).status_code
        == 200
    )
