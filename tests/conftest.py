"""Fixtures shared by the integration rings: one embedded AWS per test session, provisioned
by the same code ops use, and the real Chalice app bound to it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from chalice.test import Client

from infrastructure.provision import provision
from local.embedded_aws import EmbeddedAws
from tests.support import TEST_PASSWORD, Account, unique_username


@pytest.fixture(scope="session")
def embedded_aws() -> Iterator[EmbeddedAws]:
    with EmbeddedAws() as aws:
        saved = dict(os.environ)
        aws.export_environment()
        os.environ.update(provision("test"))
        os.environ.update(
            {
                "SIGNUP_CONFIRMATION": "false",
                "CURSOR_SECRET": "test-cursor-secret-0123456789",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_NAMESPACE": "ShutterTest",
            }
        )
        _forget_cached_configuration()
        yield aws
        os.environ.clear()
        os.environ.update(saved)
        _forget_cached_configuration()


def _forget_cached_configuration() -> None:
    from chalicelib.api.requests import cursor_codec
    from chalicelib.auth.tokens import token_verifier
    from chalicelib.core.clients import reset_clients
    from chalicelib.core.config import get_settings

    get_settings.cache_clear()
    reset_clients()
    token_verifier.cache_clear()
    cursor_codec.cache_clear()


@pytest.fixture(scope="session")
def chalice_app(embedded_aws: EmbeddedAws):  # type: ignore[no-untyped-def]
    from app import app

    return app


@pytest.fixture
def client(chalice_app) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    with Client(chalice_app) as test_client:
        yield test_client


@pytest.fixture
def make_account(client: Client):  # type: ignore[no-untyped-def]
    """Sign up and log in a fresh user through the real routes."""
    import json

    def make(prefix: str = "user") -> Account:
        username = unique_username(prefix)
        headers = {"Content-Type": "application/json"}
        signup = client.http.post(
            "/auth/signup",
            headers=headers,
            body=json.dumps(
                {
                    "username": username,
                    "email": f"{username}@example.com",
                    "password": TEST_PASSWORD,
                }
            ),
        )
        assert signup.status_code == 201, signup.body
        login = client.http.post(
            "/auth/login",
            headers=headers,
            body=json.dumps({"username": username, "password": TEST_PASSWORD}),
        )
        assert login.status_code == 200, login.body
        session = login.json_body
        return Account(session["user_id"], username, session["token"], session["refresh_token"])

    return make


@pytest.fixture
def make_ready_media(chalice_app, client: Client):  # type: ignore[no-untyped-def]
    """``make_ready_media(account)``: a ready media id of that account, uploaded for real."""
    from tests.support import upload_ready_media

    def make(account: Account, purpose: str = "post") -> str:
        return upload_ready_media(client, chalice_app, account, purpose)

    return make


@pytest.fixture
def websocket_api(chalice_app, monkeypatch):  # type: ignore[no-untyped-def]
    """Every push made while it is on goes to a fake sender, over the real connections table.

    Notifications' pusher is made once per Lambda (``notification_pusher``): tests of their
    pushes swap that instead."""
    from chalicelib.websocket import push
    from chalicelib.websocket.sender import WebSocketPusher

    from tests.support import FakeWebsocketApi

    fake = FakeWebsocketApi()
    monkeypatch.setattr(push, "frame_pusher", lambda *_, **__: WebSocketPusher(fake))
    return fake
