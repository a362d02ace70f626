"""The local REST gateway answers as API Gateway does after ``make deploy``, over real HTTP,
in front of the real app (bound to the session's embedded AWS)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from local.lambda_runtime import invoke
from local.rest_gateway import SWAGGER_UI, RestGateway
from tests.support import Account


@pytest.fixture
def gateway(chalice_app) -> Iterator[RestGateway]:  # type: ignore[no-untyped-def]
    with RestGateway(chalice_app, port=0, stage="test") as running:
        yield running


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """What the app's Powertools logger writes, from any thread, one JSON object per line."""
    from chalicelib.core.observability import SERVICE, logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    writes_through = logging.getLogger(SERVICE)  # the standard logger Powertools writes to
    writes_through.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        writes_through.removeHandler(handler)


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


@pytest.mark.parametrize("with_token", [False, True])
def test_a_path_no_route_has_is_404_not_found_and_never_echoes_the_token(
    gateway: RestGateway, make_account, with_token: bool
) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(make_account()) if with_token else {}
    response = requests.get(f"{gateway.url}/no/such/path", headers=headers, timeout=10)
    assert response.status_code == 404
    assert response.json() == {"Code": "NotFoundError", "Message": "No route matches this path"}
    if with_token:
        token = headers["Authorization"].split()[1]
        assert token not in response.text
        assert not [v for v in response.headers.values() if token in v]


def test_a_method_the_route_lacks_reaches_the_app_which_answers_405_with_allow(
    gateway: RestGateway,
) -> None:
    response = requests.put(f"{gateway.url}/health", timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.json()["Code"] == "MethodNotAllowedError"


def test_a_route_answers_through_the_app_with_api_gateways_request_id(
    gateway: RestGateway,
) -> None:
    response = requests.get(f"{gateway.url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-amzn-RequestId"]


def test_openapi_json_and_the_docs_page_are_served_without_a_token(gateway: RestGateway) -> None:
    document = requests.get(f"{gateway.url}/openapi.json", timeout=10)
    assert document.status_code == 200
    assert document.headers["Content-Type"] == "application/json"
    assert document.json()["openapi"].startswith("3.")
    assert "/health" in document.json()["paths"]

    page = requests.get(f"{gateway.url}/docs", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert f'src="{SWAGGER_UI}/swagger-ui-bundle.js"' in page.text
    assert 'integrity="sha384-' in page.text
    assert 'url: "/openapi.json"' in page.text


def test_concurrent_handlers_never_see_each_others_keys(
    gateway: RestGateway, chalice_app, make_account, log_lines
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings

    # Given two users searching through the gateway while S3 events reach the resize
    # function, all at once on many threads (as the local stack runs them)
    alice, bob = make_account("alice"), make_account("bob")
    bucket = get_settings().media_bucket
    searched_by: dict[str, str] = {}

    def search(index: int) -> None:
        account = alice if index % 2 else bob
        response = requests.get(
            f"{gateway.url}/search",
            params={"type": "posts", "q": f"sunset{index}"},
            headers=bearer(account),
            timeout=30,
        )
        assert response.status_code == 200, response.text
        searched_by[response.headers["x-amzn-RequestId"]] = account.user_id

    def upload_event(index: int) -> None:
        event = {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Post",
                    "s3": {"bucket": {"name": bucket}, "object": {"key": f"uploads/x{index}"}},
                }
            ]
        }
        invoke(chalice_app.handler_map["process_upload"], event, "shutter-test-process_upload")

    # When they run
    with ThreadPoolExecutor(max_workers=12) as pool:
        for index in range(24):
            pool.submit(search, index)
            pool.submit(upload_event, index)
        pool.shutdown(wait=True)

    # Then each line carries its own invocation's function, request and user, and no other's
    lines = log_lines()
    searches = [line for line in lines if line.get("message") == "posts searched"]
    ignored = [line for line in lines if line.get("message", "").startswith("ignored object")]
    assert len(searched_by) == 24 and len(searches) == 24 and len(ignored) == 24
    for line in searches:
        assert line["function_name"] == "shutter-test"
        assert line["user_id"] == searched_by[line["correlation_id"]]
    for line in ignored:
        assert line["function_name"] == "shutter-test-process_upload"
        assert "user_id" not in line and "correlation_id" not in line
