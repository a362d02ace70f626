"""The Lambda events an API Gateway WebSocket API sends, shaped as AWS shapes them (the
developer guide's samples for `$connect`, `$default` and `$disconnect`, which Powertools keeps
as test events). What AWS leaves out, these leave out too: a `$connect` without a query string
carries no `queryStringParameters`, a `$default` event no headers, and `identity.userAgent`
appears only when the client sent a User-Agent header.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CONNECT_ROUTE, DEFAULT_ROUTE, DISCONNECT_ROUTE = "$connect", "$default", "$disconnect"

# Hop-by-hop headers of the upgrade request; API Gateway does not pass them on.
_HANDSHAKE_ONLY_HEADERS = frozenset({"connection", "upgrade", "host"})
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def new_gateway_id() -> str:
    """Shaped like API Gateway's connection, request and message ids: 16 characters of URL-safe
    base64 ending in `=` (`BFaT_fALIAMCKug=`), so ids round-trip through `@connections/{id}`
    URLs as real ones do (botocore percent-encodes the `=`)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode("ascii")


def epoch_millis() -> int:
    return time.time_ns() // 1_000_000


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
    now = time.gmtime(now_ms / 1000)
    request_id = new_gateway_id()
    # Key order follows AWS's samples, which makes side-by-side comparison easy. The request
    # time is in Common Log Format, its month spelled out here as %b follows the locale.
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": time.strftime(f"%d/{_MONTHS[now.tm_mon - 1]}/%Y:%H:%M:%S +0000", now),
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


def _single_and_multi_value(pairs: Iterable[tuple[str, str]], prefix: str) -> dict[str, Any]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # as in API Gateway's proxy events, the last value
        multi.setdefault(name, []).append(value)
    if not single:
        return {}
    return {prefix[0].lower() + prefix[1:]: single, f"multiValue{prefix}": multi}


def connect_event(
    facts: ConnectionFacts,
    client_headers: Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]],
    forwarded_port: int,
) -> dict[str, Any]:
    """The `$connect` event, with the upgrade request's headers and query string. The headers
    are the client's as the API's domain received them: `Host` is the API's domain name (the
    client dialled it), and API Gateway appends a trace id and the `X-Forwarded-*` trio, which
    locally say `http` and the gateway's port."""
    trace_root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    headers = [
        ("Host", facts.domain_name),
        *(
            (name, value)
            for name, value in client_headers
            if name.lower() not in _HANDSHAKE_ONLY_HEADERS
            and not name.lower().startswith("x-forwarded-")
        ),
        ("X-Amzn-Trace-Id", f"Root={trace_root}"),
        ("X-Forwarded-For", facts.source_ip),
        ("X-Forwarded-Port", str(forwarded_port)),
        ("X-Forwarded-Proto", "http"),
    ]
    return {
        **_single_and_multi_value(headers, "Headers"),
        **_single_and_multi_value(query, "QueryStringParameters"),
        "requestContext": _request_context(facts, CONNECT_ROUTE, "CONNECT"),
        "isBase64Encoded": False,
    }


def message_event(facts: ConnectionFacts, body: str) -> dict[str, Any]:
    """A `$default` event for one client (text) message; it carries no headers, as on AWS."""
    context = _request_context(facts, DEFAULT_ROUTE, "MESSAGE")
    context = {"routeKey": DEFAULT_ROUTE, "messageId": new_gateway_id(), **context}
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(facts: ConnectionFacts, status_code: int, reason: str) -> dict[str, Any]:
    """The `$disconnect` event, with the close status that ended the connection, and the four
    headers (three of them empty) AWS sends with every one."""
    headers = [
        ("Host", facts.domain_name),
        ("x-api-key", ""),
        ("X-Forwarded-For", ""),
        ("x-restapi", ""),
    ]
    context = _request_context(facts, DISCONNECT_ROUTE, "DISCONNECT")
    context = {
        "routeKey": DISCONNECT_ROUTE,
        "disconnectStatusCode": status_code,
        **context,
        "disconnectReason": reason,
    }
    return {
        **_single_and_multi_value(headers, "Headers"),
        "requestContext": context,
        "isBase64Encoded": False,
    }
