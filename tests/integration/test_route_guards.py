"""Guards that cover every route the app registers, including routes added later."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from chalice.test import Client

from tests.support import Account, import_app_modules

PUBLIC_ROUTES = {
    ("/health", "GET"),
    ("/auth/signup", "POST"),
    ("/auth/login", "POST"),
    ("/auth/refresh", "POST"),
    ("/auth/confirm", "POST"),
}
ONE_MEGABYTE = "x" * (1 << 20)
# Path parameter values no route may answer with a 5xx or act on. DynamoDB refuses keys over
# 2,048 bytes (partition) and 1,024 (sort); moto does not, so the lengths are held here.
HOSTILE_PATH_VALUES = (
    "x" * 2100, "\u00e9" * 700, "\U0001f600" * 300, "\u7528\u6237", "..", ".", "%2F", "a%2Fb",
    "%2e%2e", "..%2F..%2Fetc", "a\x00b", "a\x1bb", "\x7f", "\u202e", "a b", "%00", "%",
    "x" * 129,
)  # fmt: skip
# A valid body for each body model a route with path parameters takes, so that the path,
# not the body, is what the request gets wrong.
VALID_BODIES = {"CreateCommentInput": {"text": "hostile path"}}


def registered_routes(app) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    for path, methods in sorted(app.routes.items()):
        for method in sorted(methods):
            yield path, method


def concrete(path: str, user_id: str) -> str:
    return re.sub(r"\{[^}]+\}", user_id, path)


def input_field_names() -> set[str]:
    """Every field of every request body model the app defines."""
    from chalicelib.core.schema import StrictInput

    import_app_modules()  # the routes import the schemas on first use
    names: set[str] = set()
    pending = list(StrictInput.__subclasses__())
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        names |= set(model.model_fields)
    return names


def hostile_bodies() -> Iterator[bytes]:
    yield from [
        b"{", b"not json", b"[]", b"[1, 2]", b"null", b"true", b"123", b'"text"', b"\xff\xfe\xfd",
        b"{}", b'{"": null}', b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"\x00", b"NaN", b'{"username": "a", "username": "b"}',
    ]  # fmt: skip
    # Each value is wrong for every field (True is a valid is_private, so it is not here).
    wrong: tuple[object, ...] = ([], {}, 12, -1.5, ONE_MEGABYTE, "\u0000", "\ud800", "a\x1bb")
    for field in sorted(input_field_names()):
        for value in wrong:
            try:
                yield json.dumps({field: value}).encode()
            except UnicodeEncodeError:
                continue
    yield json.dumps({field: ONE_MEGABYTE for field in input_field_names()}).encode()


def test_the_guards_know_the_app_has_routes(chalice_app) -> None:  # type: ignore[no-untyped-def]
    assert len(list(registered_routes(chalice_app))) >= 10
    assert len(input_field_names()) >= 6


def test_every_route_but_the_public_ones_needs_a_token(chalice_app, client: Client) -> None:  # type: ignore[no-untyped-def]
    for path, method in registered_routes(chalice_app):
        response = client.http.request(method, concrete(path, "probe"), headers={})
        if (path, method) in PUBLIC_ROUTES:
            assert response.status_code != 401, (method, path)
        else:
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.json_body["Code"] == "UnauthorizedError"


def test_public_routes_listed_here_are_still_registered(chalice_app) -> None:  # type: ignore[no-untyped-def]
    assert set(PUBLIC_ROUTES) <= set(registered_routes(chalice_app))


@pytest.fixture(scope="module")
def bodies() -> list[bytes]:
    return list(hostile_bodies())


@pytest.mark.parametrize("authenticated", [True, False], ids=["with token", "without token"])
def test_hostile_bodies_never_cause_a_5xx_or_a_change(
    chalice_app,
    client: Client,
    make_account,
    bodies: list[bytes],
    authenticated: bool,  # type: ignore[no-untyped-def]
) -> None:
    account: Account = make_account("hostile")
    headers = account.auth if authenticated else {"Content-Type": "application/json"}
    before = client.http.get("/users/me", headers=account.auth).json_body
    failures = []
    for path, method in registered_routes(chalice_app):
        for body in bodies:
            response = client.http.request(
                method, concrete(path, account.user_id), headers=headers, body=body
            )
            text = response.body.decode("utf-8", "replace")
            if response.status_code >= 500 or "Traceback" in text or 'File "' in text:
                failures.append((method, path, body[:60], response.status_code, text[:200]))
            elif response.status_code >= 400:
                assert set(response.json_body) == {"Code", "Message"}, (method, path, text[:200])
    assert failures == []
    assert client.http.get("/users/me", headers=account.auth).json_body == before


def table_contents() -> dict[str, list[dict]]:
    """Every item of every table of the stage, as DynamoDB returns them."""
    import boto3

    dynamodb = boto3.client("dynamodb")
    contents = {}
    for name in dynamodb.list_tables()["TableNames"]:
        items = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            items += page["Items"]
        contents[name] = sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return contents


def test_hostile_path_parameters_never_cause_a_5xx_or_a_change(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    """Over-long ids, non-ASCII, dot segments, encoded slashes and control characters in
    every path parameter of every route: a 4xx that names the problem, never a 5xx, and
    nothing in any table changes."""
    from chalicelib.api.openapi import openapi_document
    from chalicelib.api.operations import contract_of

    document = openapi_document(chalice_app)
    account: Account = make_account("hostile")
    before = table_contents()
    failures = []
    for path, method in registered_routes(chalice_app):
        contract = contract_of(path, method, chalice_app.routes[path][method].view_function)
        if not contract.path_params:
            continue
        body = b""
        if contract.body is not None:
            body = json.dumps(VALID_BODIES[contract.body[1].__name__]).encode()
        for value in HOSTILE_PATH_VALUES:
            filled = "/".join(value if part.startswith("{") else part for part in path.split("/"))
            response = client.http.request(method, filled, headers=account.auth, body=body)
            text = response.body.decode("utf-8", "replace")
            if response.status_code >= 500 or "Traceback" in text or 'File "' in text:
                failures.append((method, path, value[:20], response.status_code, text[:200]))
            elif response.status_code < 400 and not _documented_as_valid(
                document, path, method, value
            ):
                failures.append((method, path, value[:20], response.status_code, "accepted"))
    assert failures == []
    assert table_contents() == before


def _documented_as_valid(document: dict, path: str, method: str, value: str) -> bool:
    """Whether every path parameter's documented pattern takes ``value`` (a hashtag may be
    any letters: ``#\u7528\u6237`` is one)."""
    parameters = document["paths"][path][method.lower()]["parameters"]
    patterns = [p["schema"].get("pattern", ".*") for p in parameters if p["in"] == "path"]
    return all(re.fullmatch(pattern, value) for pattern in patterns)


def test_every_path_parameter_is_documented_with_a_length_dynamodb_accepts(chalice_app) -> None:  # type: ignore[no-untyped-def]
    """What the contract layer checks, the document says: every path parameter has a
    maxLength, and even at four UTF-8 bytes a character it fits a sort key (1,024 bytes).
    A hashtag is the exception: it may come percent-encoded, and is decoded and held to
    100 characters (``search.domain.hashtag``) before anything reads it."""
    from chalicelib.api.openapi import openapi_document

    document = openapi_document(chalice_app)
    for route, operations in document["paths"].items():
        for method, described in operations.items():
            for parameter in described.get("parameters", []):
                if parameter["in"] == "path":
                    schema = parameter["schema"]
                    assert "maxLength" in schema, (method, route, parameter["name"])
                    assert schema["maxLength"] * 4 <= 1024 or parameter["name"] == "tag", (
                        method, route, parameter["name"]
                    )  # fmt: skip
