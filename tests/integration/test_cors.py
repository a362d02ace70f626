"""CORS through the real app: preflights before authentication, headers on every response
for the stage's allowed origins only (``CORS_ALLOWED_ORIGINS``).

Over HTTP through the local REST gateway, which, like API Gateway after ``make deploy``,
passes OPTIONS to the app (``chalice.test.Client`` answers preflights itself, as
``chalice local`` does).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from chalicelib.api.cors import ALLOWED_HEADERS, EXPOSED_HEADERS, is_allowed

from local.rest_gateway import RestGateway
from tests.support import Account

ALLOWED = "https://app.example.com"


@pytest.fixture(autouse=True)
def allowed_origins(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import reload_settings

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", f"{ALLOWED},http://localhost:*")
    reload_settings()
    yield
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS")
    reload_settings()


class Api:
    """The app behind the local gateway, called over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url

    def request(self, method: str, path: str, **headers: str) -> requests.Response:
        return requests.request(method, self.url + path, headers=headers, timeout=10)

    def preflight(self, path: str, origin: str, method: str = "GET") -> requests.Response:
        return self.request(
            "OPTIONS",
            path,
            Origin=origin,
            **{
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )


@pytest.fixture
def api(chalice_app) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    with RestGateway(chalice_app, port=0) as gateway:
        yield Api(gateway.url)


def token(account: Account) -> str:
    return f"Bearer {account.token}"


def test_a_preflight_from_an_allowed_origin_is_answered_without_a_token(api: Api) -> None:
    response = api.preflight("/users/me", ALLOWED, "PATCH")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Access-Control-Allow-Methods"] == "GET, PATCH"
    assert response.headers["Access-Control-Allow-Headers"] == ALLOWED_HEADERS
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert response.headers["Vary"] == "Origin"
    assert response.content == b""


def test_any_port_of_localhost_is_allowed_when_the_stage_says_so(api: Api) -> None:
    response = api.preflight("/posts", "http://localhost:5173", "POST")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert response.headers["Access-Control-Allow-Methods"] == "POST"


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost.evil.example"])
def test_another_origin_gets_no_cors_headers_and_its_preflight_is_refused(
    api: Api, make_account, origin: str
) -> None:  # type: ignore[no-untyped-def]
    refused = api.preflight("/users/me", origin)
    assert refused.status_code == 403
    assert refused.json()["Code"] == "ForbiddenError"
    me = api.request("GET", "/users/me", Authorization=token(make_account()), Origin=origin)
    assert me.status_code == 200
    for response in (refused, me):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]
        assert response.headers["Vary"] == "Origin"


def test_every_response_to_an_allowed_origin_carries_the_headers_errors_included(
    api: Api, make_account
) -> None:  # type: ignore[no-untyped-def]
    signed = token(make_account())
    answers = {
        "ok": api.request("GET", "/users/me", Authorization=signed, Origin=ALLOWED),
        "no token": api.request("GET", "/users/me", Origin=ALLOWED),
        "no such user": api.request("GET", "/users/nobody", Authorization=signed, Origin=ALLOWED),
        "wrong method": api.request("PUT", "/health", Origin=ALLOWED),
    }
    assert {name: r.status_code for name, r in answers.items()} == {
        "ok": 200,
        "no token": 401,
        "no such user": 404,
        "wrong method": 405,
    }
    for response in answers.values():
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert response.headers["Access-Control-Expose-Headers"] == EXPOSED_HEADERS
        assert response.headers["Vary"] == "Origin"
    assert answers["no token"].headers["WWW-Authenticate"] == "Bearer"


def test_an_options_request_that_is_no_preflight_goes_through_the_pipeline(api: Api) -> None:
    assert api.request("OPTIONS", "/users/me").status_code == 401
    plain = api.request("OPTIONS", "/health", Origin=ALLOWED)
    assert plain.status_code == 405
    assert plain.headers["Allow"] == "GET"


def test_origins_match_exactly_or_by_any_port() -> None:
    allowed = ("https://app.example.com", "http://localhost:*")
    assert is_allowed("https://app.example.com", allowed)
    assert is_allowed("http://localhost", allowed)
    assert is_allowed("http://localhost:3000", allowed)
    assert not is_allowed("http://app.example.com", allowed)  # another scheme
    assert not is_allowed("https://app.example.com:8443", allowed)  # another port
    assert not is_allowed("https://localhost:3000", allowed)
    assert not is_allowed("null", allowed)
    assert is_allowed("null", ("*",))
    assert not is_allowed("https://app.example.com", ())


def test_a_bad_origin_setting_fails_at_start_up(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import Settings
    from pydantic import ValidationError

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "app.example.com")  # no scheme
    with pytest.raises(ValidationError):
        Settings()  # type: ignore[call-arg]
