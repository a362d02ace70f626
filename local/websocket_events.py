"""The Lambda events an API Gateway WebSocket API sends, shaped as AWS shapes them.

Shapes follow the proxy-integration events API Gateway delivers for `$connect`, `$default`
and `$disconnect` (the samples in the API Gateway developer guide, also kept as test events by
Powertools: `apiGatewayWebSocketApiConnect.json`, `...Message.json`, `...Disconnect.json`).
What AWS leaves out, these leave out too: a `$connect` without a query string carries no
`queryStringParameters`, a `$default` event carries no headers, and `identity.userAgent`
appears only when the client sent a User-Agent header.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CONNECT_ROUTE = "$connect"
DEFAULT_ROUTE = "$default"
DISCONNECT_ROUTE = "$disconnect"

# Hop-by-hop headers of the upgrade request; API Gateway does not pass them on.
_HANDSHAKE_ONLY_HEADERS = frozenset({"connection", "upgrade", "host"})

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def new_gateway_id() -> str:
    """An identifier shaped like API Gateway's connection, request and message ids.

    AWS uses 16 characters of URL-safe base64 ending in `=` (`BFaT_fALIAMCKug=`); 11 random
    bytes encode to exactly that, so ids round-trip through `@connections/{id}` URLs the way
    real ones do (botocore percent-encodes the `=`).
    """
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode("ascii")


def epoch_millis() -> int:
    return time.time_ns() // 1_000_000


def request_time(epoch_ms: int) -> str:
    """Common Log Format time, as in `requestContext.requestTime`: `11/Nov/2024:13:45:46 +0000`.

    Month names are spelled out here rather than with `%b`, which follows the process locale.
    """
    moment = time.gmtime(epoch_ms / 1000)
    return (
        f"{moment.tm_mday:02d}/{_MONTHS[moment.tm_mon - 1]}/{moment.tm_year}:"
        f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d} +0000"
    )


def iso8601(epoch_ms: int) -> str:
    """The timestamp format of the management API's `GetConnection` response."""
    moment = time.gmtime(epoch_ms / 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{epoch_ms % 1000:03d}Z"


@dataclass(frozen=True)
class ConnectionFacts:
    """What API Gateway knows about one connection and repeats in each of its events."""

    api_id: str
    stage: str
    domain_name: str
    connection_id: str
    connected_at_ms: int
    source_ip: str
    user_agent: str | None

    def identity(self) -> dict[str, str]:
        identity = {"sourceIp": self.source_ip}
        if self.user_agent is not None:
            identity["userAgent"] = self.user_agent
        return identity


def _request_context(facts: ConnectionFacts, route_key: str, event_type: str) -> dict[str, Any]:
    now_ms = epoch_millis()
    request_id = new_gateway_id()
    # Key order follows AWS's samples, which makes side-by-side comparison easy.
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(now_ms),
        "messageDirection": "IN",
        "stage": facts.stage,
        "connectedAt": facts.connected_at_ms,
        "requestTimeEpoch": now_ms,
        "identity": facts.identity(),
        "requestId": request_id,
        "domainName": facts.domain_name,
        "connectionId": facts.connection_id,
        "apiId": facts.api_id,
    }


def _single_and_multi_value(pairs: Iterable[tuple[str, str]]) -> tuple[dict, dict]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        # As in API Gateway's proxy events, the single-value map keeps the last value.
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def connect_headers(
    facts: ConnectionFacts,
    client_headers: Iterable[tuple[str, str]],
    forwarded_port: int,
    forwarded_proto: str,
) -> list[tuple[str, str]]:
    """The headers API Gateway hands `$connect`: the client's, as the API's domain received them.

    `Host` is the API's domain name (the client dialled it), and API Gateway appends a trace
    id and the `X-Forwarded-*` trio. Those describe the client's real hop, so locally they say
    `http` and the gateway's port.
    """
    headers = [("Host", facts.domain_name)]
    headers += [
        (name, value)
        for name, value in client_headers
        if name.lower() not in _HANDSHAKE_ONLY_HEADERS
        and not name.lower().startswith("x-forwarded-")
    ]
    trace_root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    headers += [
        ("X-Amzn-Trace-Id", f"Root={trace_root}"),
        ("X-Forwarded-For", facts.source_ip),
        ("X-Forwarded-Port", str(forwarded_port)),
        ("X-Forwarded-Proto", forwarded_proto),
    ]
    return headers


def connect_event(
    facts: ConnectionFacts,
    headers: Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]],
) -> dict[str, Any]:
    """The `$connect` event, with the upgrade request's headers and query string."""
    single_headers, multi_headers = _single_and_multi_value(headers)
    event: dict[str, Any] = {"headers": single_headers, "multiValueHeaders": multi_headers}
    single_query, multi_query = _single_and_multi_value(query)
    if single_query:
        event["queryStringParameters"] = single_query
        event["multiValueQueryStringParameters"] = multi_query
    event["requestContext"] = _request_context(facts, CONNECT_ROUTE, "CONNECT")
    event["isBase64Encoded"] = False
    return event


def message_event(facts: ConnectionFacts, body: str, is_base64_encoded: bool) -> dict[str, Any]:
    """A `$default` event for one client message; it carries no headers, as on AWS."""
    context = _request_context(facts, DEFAULT_ROUTE, "MESSAGE")
    context = {"routeKey": DEFAULT_ROUTE, "messageId": new_gateway_id(), **context}
    return {"requestContext": context, "body": body, "isBase64Encoded": is_base64_encoded}


def disconnect_event(facts: ConnectionFacts, status_code: int, reason: str) -> dict[str, Any]:
    """The `$disconnect` event, with the close status that ended the connection.

    AWS sends these four headers, three of them empty, on every `$disconnect`.
    """
    headers = [
        ("Host", facts.domain_name),
        ("x-api-key", ""),
        ("X-Forwarded-For", ""),
        ("x-restapi", ""),
    ]
    single_headers, multi_headers = _single_and_multi_value(headers)
    context = _request_context(facts, DISCONNECT_ROUTE, "DISCONNECT")
    context = {
        "routeKey": DISCONNECT_ROUTE,
        "disconnectStatusCode": status_code,
        **context,
        "disconnectReason": reason,
    }
    return {
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
