"""A client's first minutes against `make run`: over real HTTP and a real WebSocket."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests
import websockets
from websockets.exceptions import InvalidStatus

from tests.e2e.conftest import RunningStack, start_stack, stop_stack, wait_until
from tests.support import Account


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


def test_health_answers(local_stack: RunningStack) -> None:
    response = requests.get(f"{local_stack.api_url}/health", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_sign_up_log_in_me_follow_followers(local_stack: RunningStack) -> None:
    alice, bob = local_stack.sign_up("alice"), local_stack.sign_up("bob")
    me = requests.get(f"{local_stack.api_url}/users/me", headers=bearer(alice), timeout=5)
    assert me.status_code == 200
    assert me.json()["username"] == alice.username

    follow = requests.post(
        f"{local_stack.api_url}/users/{bob.user_id}/follow", headers=bearer(alice), timeout=5
    )
    assert follow.json() == {"status": "following"}
    followers = requests.get(
        f"{local_stack.api_url}/users/{bob.user_id}/followers", headers=bearer(bob), timeout=5
    ).json()
    assert [item["user_id"] for item in followers["items"]] == [alice.user_id]
    assert followers["next_cursor"] is None


@pytest.mark.parametrize("authorization", [None, "Bearer nonsense", "tampered"])
def test_bad_or_tampered_tokens_are_401(
    local_stack: RunningStack, authorization: str | None
) -> None:
    account = local_stack.sign_up()
    if authorization == "tampered":
        head, payload, signature = account.token.split(".")
        authorization = f"Bearer {head}.{payload[:-2]}AA.{signature}"
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(f"{local_stack.api_url}/users/me", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json()["Code"] == "UnauthorizedError"


def test_websocket_connect_is_refused_with_a_bad_token_and_accepted_with_a_good_one(
    local_stack: RunningStack,
) -> None:
    account = local_stack.sign_up()

    async def attempt(token: str) -> str:
        try:
            async with websockets.connect(f"{local_stack.ws_url}/?token={token}", open_timeout=10):
                return "accepted"
        except InvalidStatus as refused:
            return f"refused {refused.response.status_code}"

    async def both() -> tuple[str, str]:
        return await attempt("not-a-token"), await attempt(account.token)

    assert asyncio.run(both()) == ("refused 401", "accepted")


def test_fifty_concurrent_follow_and_unfollow_requests_keep_counts_equal_to_edges(
    local_stack: RunningStack,
) -> None:
    alice, bob = local_stack.sign_up("alice"), local_stack.sign_up("bob")
    url = f"{local_stack.api_url}/users/{bob.user_id}/follow"

    def act(index: int) -> int:
        method = requests.post if index % 2 == 0 else requests.delete
        return method(url, headers=bearer(alice), timeout=30).status_code

    with ThreadPoolExecutor(max_workers=25) as pool:
        statuses = list(pool.map(act, range(50)))
    assert set(statuses) == {200}

    dynamodb = boto3.client(
        "dynamodb", endpoint_url=local_stack.aws_url, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip
    edges = dynamodb.query(
        TableName="shutter-local-follows",
        KeyConditionExpression="follower_id = :a AND followee_id = :b",
        ExpressionAttributeValues={":a": {"S": alice.user_id}, ":b": {"S": bob.user_id}},
    )["Count"]
    bob_profile = requests.get(
        f"{local_stack.api_url}/users/{bob.user_id}", headers=bearer(alice), timeout=5
    ).json()
    alice_profile = requests.get(
        f"{local_stack.api_url}/users/me", headers=bearer(alice), timeout=5
    ).json()
    assert bob_profile["follower_count"] == edges
    assert alice_profile["following_count"] == edges
    assert bob_profile["followed_by_me"] is (edges == 1)


def test_hostile_bodies_over_http_never_cause_a_5xx(local_stack: RunningStack) -> None:
    account = local_stack.sign_up()
    bodies = [
        b"{",
        b"[]",
        b"null",
        b'{"bio": 5}',
        b"\xff",
        json.dumps({"bio": "x" * (1 << 20)}).encode(),
    ]
    targets = [("POST", "/auth/signup"), ("POST", "/auth/login"), ("PATCH", "/users/me"),
               ("POST", f"/users/{account.user_id}/follow")]  # fmt: skip
    for method, path in targets:
        for body in bodies:
            response = requests.request(
                method, f"{local_stack.api_url}{path}", data=body, timeout=10,
                headers={**bearer(account), "Content-Type": "application/json"},
            )  # fmt: skip
            assert 400 <= response.status_code < 500, (method, path, body[:20], response.text[:200])
            assert "Traceback" not in response.text


def test_the_stack_stops_cleanly_on_sigterm() -> None:
    stack = start_stack()
    assert requests.get(f"{stack.api_url}/health", timeout=5).status_code == 200
    assert stop_stack(stack) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{stack.api_url}/health", timeout=2)


@pytest.mark.parametrize("with_token", [False, True])
def test_a_path_no_route_has_is_404_and_never_echoes_the_token(
    local_stack: RunningStack, with_token: bool
) -> None:
    account = local_stack.sign_up()
    headers = bearer(account) if with_token else {}
    response = requests.get(f"{local_stack.api_url}/no/such/path", headers=headers, timeout=5)
    assert response.status_code == 404
    assert response.json()["Code"] == "NotFoundError"
    assert account.token not in response.text


def test_each_request_and_event_prints_one_summary_line_with_its_log_lines_below(
    local_stack: RunningStack,
) -> None:
    account = local_stack.sign_up("logs")
    media_id = local_stack.upload_photo(account)

    def summary_above(line: str) -> str:
        # An invocation's lines follow its summary, the one line above them not in JSON.
        at = local_stack.output.index(line)
        return next(s for s in reversed(local_stack.output[:at]) if not s.startswith("{"))

    # The sign-up's line, its one JSON log line (written once) and its metric, together
    signed_up = [
        line for line in local_stack.output
        if '"user signed up"' in line and account.user_id in line
    ]  # fmt: skip
    assert len(signed_up) == 1
    assert summary_above(signed_up[0]).startswith("POST /auth/signup 201 ")
    assert json.loads(signed_up[0])["function_name"] == "shutter-local"
    # The resize function's delivery, its lines carrying its own name
    ready_line = wait_until(
        lambda: next((line for line in local_stack.output
                      if '"upload ready"' in line and media_id in line), None)
    )  # fmt: skip
    assert summary_above(ready_line).startswith("process_upload 1 record 0 failures ")
    ready = json.loads(ready_line)
    assert ready["function_name"] == "shutter-local-process_upload"
    assert "user_id" not in ready
    assert any(line.startswith("GET /media/") and f"user={account.username}" in line
               for line in local_stack.output)  # fmt: skip


def test_a_web_client_on_a_local_dev_server_passes_the_preflight(local_stack: RunningStack) -> None:
    preflight = requests.options(
        f"{local_stack.api_url}/posts",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
        timeout=5,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    elsewhere = requests.get(
        f"{local_stack.api_url}/health", headers={"Origin": "https://elsewhere.example"}, timeout=5
    )
    assert "Access-Control-Allow-Origin" not in elsewhere.headers


def test_the_served_openapi_document_is_valid_and_is_the_committed_one(
    local_stack: RunningStack,
) -> None:
    from openapi_spec_validator import validate

    from infrastructure.api_documents import OPENAPI

    served = requests.get(f"{local_stack.api_url}/openapi.json", timeout=10)
    assert served.status_code == 200, served.text
    document = served.json()
    validate(document)  # OpenAPI 3.1, as openapi-spec-validator reads it
    # The committed document is generated from the app's routes and checked against them
    # (tests/integration/test_api_documents.py); the stack serves the same one.
    assert document == json.loads(OPENAPI.read_text())
    docs_page = requests.get(f"{local_stack.api_url}/docs", timeout=10)
    assert docs_page.status_code == 200 and "swagger-ui" in docs_page.text.lower()
