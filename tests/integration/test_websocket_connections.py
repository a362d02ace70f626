"""$connect and $disconnect handlers, called as Lambda calls them with AWS-shaped events."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
)

from local.lambda_runtime import LambdaContext
from tests.support import load_event, send_frame, token_expiring_in


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("wsConnect.json", APIGatewayWebSocketConnectEventModel),
        ("wsDisconnect.json", APIGatewayWebSocketDisconnectEventModel),
    ],
)
def test_sample_events_match_the_powertools_models(name: str, model: Any) -> None:
    model.model_validate(load_event(name))


def connect_event(token: str | None, connection_id: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("wsConnect.json"))
    event["requestContext"]["connectionId"] = connection_id
    event["queryStringParameters"] = {"token": token} if token is not None else None
    event["multiValueQueryStringParameters"] = {"token": [token]} if token is not None else None
    return event


def invoke(app, route: str, event: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    handler = app.handler_map[app.websocket_handlers[route].name]
    return handler(event, LambdaContext(app.websocket_handlers[route].name))


def stored_connection(connection_id: str) -> dict | None:
    from chalicelib.core.config import get_settings

    return (
        boto3.client("dynamodb")
        .get_item(
            TableName=get_settings().connections_table, Key={"connection_id": {"S": connection_id}}
        )
        .get("Item")
    )


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c"])
def test_connect_without_a_valid_token_is_refused_and_not_stored(chalice_app, token) -> None:  # type: ignore[no-untyped-def]
    result = invoke(chalice_app, "$connect", connect_event(token, f"refused-{token}"))
    assert result["statusCode"] == 401
    assert stored_connection(f"refused-{token}") is None


def test_connect_with_a_valid_token_is_stored_with_a_ttl_then_disconnect_forgets_it(
    chalice_app,
    make_account,  # type: ignore[no-untyped-def]
) -> None:
    account = make_account()
    result = invoke(chalice_app, "$connect", connect_event(account.token, "conn-ok"))
    assert result["statusCode"] == 200
    item = stored_connection("conn-ok")
    assert item is not None
    assert item["user_id"]["S"] == account.user_id
    assert int(item["expires_at"]["N"]) > 0

    disconnect = copy.deepcopy(load_event("wsDisconnect.json"))
    disconnect["requestContext"]["connectionId"] = "conn-ok"
    invoke(chalice_app, "$disconnect", disconnect)
    assert stored_connection("conn-ok") is None


def test_a_connection_takes_no_frame_after_its_token_expires_and_is_closed(
    chalice_app, client, make_account, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    # Given a connection opened with a token that expires in two seconds
    alice, bob = make_account("alice"), make_account("bob")
    token, expires_at = token_expiring_in(alice, seconds=2)
    assert invoke(chalice_app, "$connect", connect_event(token, "conn-exp"))["statusCode"] == 200
    send = {"action": "send", "to": bob.user_id, "text": "before", "client_id": "c-1"}
    send_frame(chalice_app, "conn-exp", send)
    assert [frame["type"] for frame in websocket_api.to("conn-exp")] == ["ack"]

    # When its token's exp passes and the client sends another frame
    while time.time() < expires_at:
        time.sleep(0.05)
    send_frame(chalice_app, "conn-exp", {**send, "text": "after", "client_id": "c-2"})

    # Then it is refused with TokenExpired, the connection is closed and forgotten, and the
    # message was not sent
    refused = websocket_api.to("conn-exp")[1:]
    assert [(f["type"], f["code"], f["client_id"]) for f in refused] == [
        ("error", "TokenExpired", "c-2")
    ]
    assert websocket_api.closed == ["conn-exp"]
    assert stored_connection("conn-exp") is None
    history = client.http.get("/conversations", headers=bob.auth).json_body["items"]
    assert [conversation["last_seq"] for conversation in history] == [1]


def test_pushes_stop_at_the_token_expiry_of_a_connection(chalice_app, make_account) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.clock import from_epoch_seconds
    from chalicelib.websocket import repository

    account = make_account()
    token, expires_at = token_expiring_in(account, seconds=60)
    assert invoke(chalice_app, "$connect", connect_event(token, "conn-push"))["statusCode"] == 200
    assert repository.connections_of(account.user_id, from_epoch_seconds(expires_at - 1)) == [
        "conn-push"
    ]
    assert repository.connections_of(account.user_id, from_epoch_seconds(expires_at)) == []


def test_a_frame_on_a_connection_nobody_opened_is_refused_and_closed(
    chalice_app, websocket_api
) -> None:  # type: ignore[no-untyped-def]
    send_frame(chalice_app, "conn-unknown", json.dumps({"action": "read"}))
    [refused] = websocket_api.to("conn-unknown")
    assert (refused["type"], refused["code"]) == ("error", "UnauthorizedError")
    assert websocket_api.closed == ["conn-unknown"]
