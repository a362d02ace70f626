"""$connect and $disconnect handlers, called as Lambda calls them with AWS-shaped events."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
)

from infrastructure.local_stack.lambda_runtime import LambdaContext
from tests.support import load_event


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
