"""Helpers the test rings share."""

from __future__ import annotations

import json
import struct
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from referencing.jsonschema import DRAFT202012 as DRAFT_2020_12

TEST_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    user_id: str
    username: str
    token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}


def token_expiring_in(account: Account, seconds: int) -> tuple[str, int]:
    """The account's access token as Cognito would issue it to expire in ``seconds``: its
    claims, signed with the key moto signs with (moto ships it), but ``exp`` moved. Returns
    the token and its ``exp`` (epoch seconds)."""
    import jwt
    from moto.utilities.utils import load_resource

    claims = jwt.decode(account.token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now, exp=now + seconds)
    key = load_resource("cognitoidp/resources/jwks-private.json")
    token = jwt.encode(claims, jwt.PyJWK(key).key, algorithm="RS256", headers={"kid": key["kid"]})
    return token, claims["exp"]


def unique_username(prefix: str = "user") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"


def load_event(name: str) -> dict[str, Any]:
    """A sample Lambda event from ``events/``, as AWS shapes it."""
    return json.loads((EVENTS_DIR / name).read_text())


def small_jpeg(width: int = 64, height: int = 48) -> bytes:
    """A real JPEG, small enough that the resize function runs in milliseconds."""
    import io

    from PIL import Image

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def upload_ready_media(client: Any, app: Any, account: Account, purpose: str = "post") -> str:
    """A media id of ``account``'s that is ready, made the way clients and S3 make it:
    POST /media/uploads, the file POSTed to the presigned URL, then the S3 event handed to
    the resize function as Lambda would."""
    import copy

    import requests
    from chalicelib.core.config import get_settings

    from local.lambda_runtime import LambdaContext

    data = small_jpeg()
    created = client.http.post(
        "/media/uploads",
        headers=account.auth,
        body=json.dumps(
            {"content_type": "image/jpeg", "size_bytes": len(data), "purpose": purpose}
        ),
    )
    assert created.status_code == 201, created.body
    upload = created.json_body
    sent = requests.post(
        upload["upload"]["url"],
        data=upload["upload"]["fields"],
        files={"file": ("photo.jpg", data)},
        timeout=30,
    )
    assert sent.status_code == 204, sent.text
    bucket = get_settings().media_bucket
    event = copy.deepcopy(load_event("s3ObjectCreated.json"))
    record = event["Records"][0]["s3"]
    record["bucket"]["name"], record["bucket"]["arn"] = bucket, f"arn:aws:s3:::{bucket}"
    record["object"]["key"], record["object"]["size"] = upload["upload"]["fields"]["key"], len(data)
    app.handler_map["process_upload"](event, LambdaContext("process_upload"))
    # Where the event plumbing runs too, its own delivery of the same S3 event may hold the
    # upload's lease, and the call above returns at once: wait for whichever finishes it.
    media_id = upload["media_id"]
    deadline = time.monotonic() + 30
    while (status := _media_status(client, account, media_id)) == "pending":
        assert time.monotonic() < deadline, f"media {media_id} still pending after 30 s"
        time.sleep(0.05)
    assert status == "ready", status
    return media_id


def _media_status(client: Any, account: Account, media_id: str) -> str:
    read = client.http.get(f"/media/{media_id}", headers=account.auth)
    assert read.status_code == 200, read.body
    return str(read.json_body["status"])


def objects_of_media(s3: Any, media_id: str, bucket: str | None = None) -> list[str]:
    """The keys of a media's objects in ``bucket`` (every bucket when None), read through every
    page of the listing: a bucket the suite has filled holds far more than one page (1,000)."""
    buckets = [bucket] if bucket else [b["Name"] for b in s3.list_buckets()["Buckets"]]
    return [
        listed["Key"]
        for name in buckets
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name)
        for listed in page.get("Contents", [])
        if media_id in listed["Key"]
    ]


def create_post(client: Any, author: Account, media_id: str, caption: str = "") -> str:
    """Post one ready media through the real route; returns the post id."""
    created = client.http.post(
        "/posts",
        headers=author.auth,
        body=json.dumps({"media_ids": [media_id], "caption": caption}),
    )
    assert created.status_code == 201, created.body
    return created.json_body["post_id"]


def unsigned(body: Any) -> Any:
    """``body`` with every presigned URL's query (its signature and expiry) cut off: two
    reads of the same photo a second apart sign its URLs differently."""
    if isinstance(body, dict):
        return {key: unsigned(value) for key, value in body.items()}
    if isinstance(body, list):
        return [unsigned(value) for value in body]
    if isinstance(body, str) and body.startswith("http") and "?" in body:
        return body.split("?", 1)[0]
    return body


def import_app_modules() -> None:
    """Import every ``chalicelib`` module (the app imports most on first use), so a test
    that enumerates the app's classes (``__subclasses__()``) sees them all."""
    from local.stack import import_app_modules as import_all

    import_all()


def dynamodb_clients() -> list:
    """Every botocore client the app reaches DynamoDB through: PynamoDB gives each model a
    connection, and transactions and multi-table batches share one more."""
    from chalicelib.core.config import get_settings
    from chalicelib.core.dynamodb import _connection
    from pynamodb.models import Model

    import_app_modules()
    models, pending = [], list(Model.__subclasses__())
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        if getattr(model.Meta, "table_name", None):
            models.append(model)
    clients = {id(c): c for c in [_connection(get_settings().aws_region).client]}
    for model in models:
        client = model._get_connection().connection.client
        clients[id(client)] = client
    return list(clients.values())


class DynamoDBCallCounter:
    """Counts DynamoDB calls by operation, with a botocore before-call hook on every client."""

    def __init__(self) -> None:
        self.clients = dynamodb_clients()
        self.calls: list[str] = []

    def __enter__(self) -> DynamoDBCallCounter:
        for client in self.clients:
            client.meta.events.register("before-call.dynamodb", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call.dynamodb", self._count)

    def _count(self, model, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(model.name)

    def count(self, operation: str) -> int:
        return self.calls.count(operation)


class AwsFaults:
    """Makes chosen AWS calls of the app fail as AWS fails them.

    A botocore ``before-call`` hook on every client the app reaches DynamoDB and S3 through
    answers a matching call with an error response instead of sending it (botocore's own
    retries are inside the call it skips, so each fault is one failed call the app sees).
    ``fail("UpdateItem", matching=media_id, times=2)`` fails the next two UpdateItem calls
    whose request (URL or body) names ``media_id``; ``only_if`` (more text the request must
    hold) narrows further.
    """

    def __init__(self) -> None:
        from chalicelib.core.clients import aws_client

        self.clients = [*dynamodb_clients(), aws_client("s3")]
        self.failed: list[str] = []
        self._faults: list[dict[str, Any]] = []

    def __enter__(self) -> AwsFaults:
        for client in self.clients:
            client.meta.events.register("before-call", self._answer)
        return self

    def __exit__(self, *exc: object) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call", self._answer)

    def fail(
        self,
        operation: str,
        *,
        matching: str,
        times: int = 1,
        only_if: str | tuple[str, ...] = (),
        code: str = "",
        status: int = 0,
    ) -> None:
        """Fail ``times`` calls of ``operation`` naming ``matching`` (and ``only_if``): by
        default as a throttled DynamoDB write or an S3 slow-down would."""
        s3 = operation in ("GetObject", "PutObject", "DeleteObject", "DeleteObjects")
        self._faults.append(
            {
                "operation": operation,
                "matching": (matching, *([only_if] if isinstance(only_if, str) else only_if)),
                "left": times,
                "code": code or ("SlowDown" if s3 else "ProvisionedThroughputExceededException"),
                "status": status or (503 if s3 else 400),
            }
        )

    def _answer(self, model, params, **kwargs):  # type: ignore[no-untyped-def]
        from types import SimpleNamespace

        body = params.get("body")
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="ignore")
        text = f"{params.get('url', '')} {body if isinstance(body, str) else ''}"
        for fault in self._faults:
            if fault["left"] == 0 or fault["operation"] != model.name:
                continue
            if not all(part in text for part in fault["matching"]):
                continue
            fault["left"] -= 1
            self.failed.append(model.name)
            error = {
                "Error": {"Code": fault["code"], "Message": "injected by the test"},
                "ResponseMetadata": {"HTTPStatusCode": fault["status"]},
            }
            http = SimpleNamespace(status_code=fault["status"], headers={}, text="", content=b"")
            return http, error
        return None


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its few bytes of data could never fill."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + chunk(b"IEND", b"")
    )


class FakeWebsocketApi:
    """Stands in for Chalice's ``WebsocketAPI``: records sends and closes; some connections
    are gone, and with ``fail`` every call raises, as an unreachable management API would."""

    def __init__(self, gone: set[str] | None = None, fail: bool = False) -> None:
        self.gone = gone or set()
        self.fail = fail
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.closed: list[str] = []

    def send(self, connection_id: str, message: str) -> None:
        from chalice import WebsocketDisconnectedError

        if self.fail:
            raise RuntimeError("the management API is unreachable")
        if connection_id in self.gone:
            raise WebsocketDisconnectedError(connection_id)
        self.sent.append((connection_id, json.loads(message)))

    def close(self, connection_id: str) -> None:
        from chalice import WebsocketDisconnectedError

        if self.fail:
            raise RuntimeError("the management API is unreachable")
        if connection_id in self.gone:
            raise WebsocketDisconnectedError(connection_id)
        self.closed.append(connection_id)
        self.gone.add(connection_id)

    def to(self, connection_id: str) -> list[dict[str, Any]]:
        return [frame for sent_to, frame in self.sent if sent_to == connection_id]


def open_connection(account: Account, name: str) -> str:
    """Record an open WebSocket connection ``<user_id>-<name>`` of the account, as
    ``$connect`` does with the account's token (valid for an hour); returns its id."""
    from datetime import UTC, datetime, timedelta

    from chalicelib.websocket import repository as connections

    connection_id = f"{account.user_id}-{name}"
    now = datetime.now(UTC)
    connections.save_connection(
        connection_id, account.user_id, now, timedelta(hours=2), now + timedelta(hours=1)
    )
    return connection_id


def send_frame(app: Any, connection_id: str, body: Any) -> None:
    """Hand a client frame to the app's ``$default`` handler, as API Gateway would."""
    import copy

    from local.lambda_runtime import LambdaContext

    event = copy.deepcopy(load_event("wsMessageSend.json"))
    event["requestContext"]["connectionId"] = connection_id
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    config = app.websocket_handlers["$default"]
    app.handler_map[config.name](event, LambdaContext(config.name))


class DocumentedResponses:
    """Checks responses against an OpenAPI document: the status is one the operation
    documents, and the body validates against that status's schema."""

    def __init__(self, document: dict[str, Any]) -> None:
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource

        self._document = document
        resource = Resource.from_contents(document, default_specification=DRAFT_2020_12)
        self._registry = Registry().with_resource("urn:openapi", resource)
        self._validator = Draft202012Validator

    def problems(self, method: str, route: str, status: int, body: Any) -> list[str]:
        operation = self._document["paths"][route][method.lower()]
        response = operation["responses"].get(str(status))
        if response is None:
            return [f"{method} {route}: {status} is not documented"]
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return [] if body in (None, b"", "") else [f"{method} {route}: {status} has a body"]
        ref = {"$ref": "urn:openapi" + schema["$ref"]}
        validator = self._validator(ref, registry=self._registry)
        return [
            f"{method} {route} {status}: {error.message}" for error in validator.iter_errors(body)
        ]
