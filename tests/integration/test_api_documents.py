"""The API's documents: generated from the code, valid, complete, and committed fresh.

``docs/openapi.json`` must describe exactly the routes the app registers, each with its
parameters, body, success response and the errors it may answer; ``docs/asyncapi.json``
the WebSocket's frames. Both are checked against their specifications' own schemas.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from infrastructure.api_documents import ASYNCAPI, OPENAPI, documents, rendered

ASYNCAPI_SCHEMA = (
    Path(__file__).resolve().parents[1] / "fixtures" / "asyncapi-3.0.0" / "schema.json"
)
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


@pytest.fixture(scope="module")
def generated(chalice_app) -> dict[Path, dict[str, Any]]:  # type: ignore[no-untyped-def]
    return documents(chalice_app)


@pytest.fixture(scope="module")
def openapi(generated: dict[Path, dict[str, Any]]) -> dict[str, Any]:
    return generated[OPENAPI]


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_the_openapi_document_is_valid_openapi_3_1(openapi: dict[str, Any]) -> None:
    assert openapi["openapi"].startswith("3.1.")
    validate_openapi(openapi)


def test_the_validator_refuses_a_broken_document(openapi: dict[str, Any]) -> None:
    broken = copy.deepcopy(openapi)
    del broken["paths"]["/feed"]["get"]["responses"]["200"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate_openapi(broken)


def test_its_operations_are_exactly_the_apps_routes(chalice_app, openapi) -> None:  # type: ignore[no-untyped-def]
    registered = {
        (method, path) for path, methods in chalice_app.routes.items() for method in methods
    }
    assert len(registered) >= 47
    assert set(operations(openapi)) == registered


def test_every_operation_has_a_2xx_schema_the_error_schema_and_a_unique_id(openapi) -> None:  # type: ignore[no-untyped-def]
    error = {"$ref": "#/components/schemas/Error"}
    ids = []
    for (method, path), operation in operations(openapi).items():
        ids.append(operation["operationId"])
        responses = operation["responses"]
        successes = [status for status in responses if status.startswith("2")]
        assert len(successes) == 1, (method, path)
        success = responses[successes[0]]
        if successes[0] != "204":
            assert "$ref" in success["content"]["application/json"]["schema"], (method, path)
        errors = [status for status in responses if status[0] in "45"]
        assert errors or path == "/health", f"{method} {path} documents no error"
        for status in errors:
            assert responses[status]["content"]["application/json"]["schema"] == error
        if path not in ("/health",) and not path.startswith("/auth/"):
            assert operation["security"] == [{"bearer": []}] and "401" in responses
    assert len(ids) == len(set(ids))


def test_lists_take_limit_and_cursor_and_answer_the_list_envelope(openapi) -> None:  # type: ignore[no-untyped-def]
    schemas = openapi["components"]["schemas"]
    lists = 0
    for operation in operations(openapi).values():
        success = next(r for s, r in operation["responses"].items() if s.startswith("2"))
        ref = success.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        if not ref or not ref.endswith("List"):
            continue
        lists += 1
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert {"limit", "cursor"} <= names, operation["operationId"]
        envelope = schemas[ref.rsplit("/", 1)[1]]
        assert set(envelope["required"]) == {"items", "next_cursor"}
    assert lists >= 14


def test_query_parameters_headers_and_rate_limits_are_described(openapi) -> None:  # type: ignore[no-untyped-def]
    by_id = {op["operationId"]: op for op in operations(openapi).values()}

    def parameters(operation_id: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in by_id[operation_id].get("parameters", [])}

    search = parameters("search")
    assert search["q"]["required"] and search["type"]["required"]
    assert search["type"]["schema"] == {"$ref": "#/components/schemas/SearchType"}
    assert parameters("conversation_messages")["after_seq"]["schema"]["minimum"] == 0
    assert parameters("create_post")["Idempotency-Key"]["in"] == "header"
    created = by_id["create_post"]["responses"]
    assert set(created["201"]["headers"]) >= {"X-RateLimit-Remaining", "Idempotent-Replayed"}
    assert "Retry-After" in created["429"]["headers"]
    assert by_id["sign_up"]["security"] == []


def test_the_committed_documents_match_the_code(generated: dict[Path, dict[str, Any]]) -> None:
    for path, document in generated.items():
        assert path.read_text() == rendered(document), (
            f"{path.name} is stale: run `make openapi` and commit it"
        )


def test_the_asyncapi_document_is_valid_asyncapi_3(generated) -> None:  # type: ignore[no-untyped-def]
    document = generated[ASYNCAPI]
    specification = json.loads(ASYNCAPI_SCHEMA.read_text())
    jsonschema.validate(document, specification)
    frames = set(document["components"]["messages"])
    assert frames == {"send", "read", "ack", "message", "readReceipt", "notification", "error"}
    broken = copy.deepcopy(document)
    del broken["operations"]["receive_send"]["channel"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, specification)
