"""The OpenAPI 3.1 document of the REST API, generated from the app's registered routes.

Every operation comes from one route's contract (``chalicelib.api.operations``): its path
parameters, its query and body models, its response model and status, the error statuses
it may answer, and whether it needs a token, takes an ``Idempotency-Key`` or is rate
limited. The schemas are pydantic's JSON Schemas (draft 2020-12, which OpenAPI 3.1 uses
as is) of the same models that validate requests and render responses, so the document
cannot describe a shape the code does not send.

``make openapi`` writes it to ``docs/openapi.json``; the local stack serves it at
``GET /openapi.json``. Nothing here runs in a deployed function.
"""

from __future__ import annotations

import re
from typing import Any

from chalice import Chalice
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from chalicelib.api.idempotency import MAX_KEY_LENGTH, REPLAYED_HEADER
from chalicelib.api.operations import Contract, contract_of
from chalicelib.core.pagination import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT
from chalicelib.core.schema import ErrorOut, Id, Output

TITLE = "Shutter"
VERSION = "0.1.0"
DESCRIPTION = (
    "A serverless Instagram backend: feeds, stories, direct messages, search. The prose "
    "contract is docs/API.md; direct messages and live notifications travel over the "
    "WebSocket API described in docs/asyncapi.json.\n\n"
    "Errors answer `{Code, Message}`. Lists answer `{items, next_cursor}` and take "
    f"`?limit=` (1 to {MAX_LIMIT}, default {DEFAULT_LIMIT}) and `?cursor=`."
)
SERVERS = [{"url": "http://127.0.0.1:8000", "description": "the local stack (make run)"}]
COMPONENTS = "#/components/schemas/"

ERROR_DESCRIPTIONS = {
    400: "Bad input: malformed JSON, a wrong type, a value out of range, an unknown enum.",
    401: "No valid token: send Authorization: Bearer <token>.",
    403: "Authenticated, but not allowed to do this to this object.",
    404: "Nothing by that id that the caller may see.",
    409: "Conflicts with the current state (taken, not ready, still in progress).",
    422: "An Idempotency-Key reused with a different request body.",
    429: "Over a per-user rate limit: retry after Retry-After seconds.",
}
SUCCESS_DESCRIPTIONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content"}


def openapi_document(app: Chalice) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing every route of ``app``."""
    contracts = [
        contract_of(path, method, route.view_function)
        for path, methods in sorted(app.routes.items())
        for method, route in sorted(methods.items())
    ]
    schemas, refs = _component_schemas(contracts)
    paths: dict[str, dict[str, Any]] = {}
    for contract in contracts:
        paths.setdefault(contract.path, {})[contract.method.lower()] = _operation(
            contract, refs, schemas
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "servers": SERVERS,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The token POST /auth/login answers (a Cognito access token).",
                }
            },
        },
    }


def _component_schemas(
    contracts: list[Contract],
) -> tuple[dict[str, Any], dict[tuple[Any, JsonSchemaMode], dict[str, str]]]:
    """Every model the contracts name, as components: inputs as they validate, outputs as
    they serialise. Returns the components and each (model, mode)'s ``$ref``."""
    wanted: dict[tuple[Any, JsonSchemaMode], None] = {(ErrorOut, "serialization"): None}
    for contract in contracts:
        for model in (contract.body, contract.query):
            if model is not None:
                wanted[(model[1], "validation")] = None
        if contract.response is not None:
            wanted[(contract.response, "serialization")] = None
    return component_schemas(list(wanted), COMPONENTS)


def component_schemas(
    wanted: list[tuple[Any, JsonSchemaMode]], prefix: str
) -> tuple[dict[str, Any], dict[tuple[Any, JsonSchemaMode], dict[str, str]]]:
    """JSON Schemas of ``(model, mode)`` pairs as a document's components under ``prefix``,
    named as clients see them (``PostOut`` is ``Post``), and each pair's ``$ref``."""
    keys, definitions = models_json_schema(wanted, ref_template=prefix + "{model}")
    defs = definitions.get("$defs", {})
    # A generic's key is pydantic's (``ListOf_PostOut_``); its title is ours (``PostOutList``).
    names = {
        name: _public_name(schema["title"] if name.startswith("ListOf_") else name)
        for name, schema in defs.items()
    }
    if len(set(names.values())) != len(names):
        clashing = sorted(name for name in names if list(names.values()).count(names[name]) > 1)
        raise ValueError(f"these models would share a name in the document: {clashing}")
    schemas = {
        names[name]: _renamed(schema, names, prefix) for name, schema in sorted(defs.items())
    }
    outputs = _output_names(wanted)
    for name, schema in schemas.items():
        if name in outputs:
            # Responses and pushed frames may grow fields: clients ignore what they do not know.
            schema.pop("additionalProperties", None)
    refs: dict[tuple[Any, JsonSchemaMode], dict[str, str]] = {
        key: _renamed(ref, names, prefix) for key, ref in keys.items()
    }
    return schemas, refs


def _output_names(wanted: list[tuple[Any, JsonSchemaMode]]) -> set[str]:
    outputs: set[str] = set()

    def collect(model: type[BaseModel]) -> None:
        name = _public_name(model.__name__)
        if name in outputs:
            return
        outputs.add(name)
        for field in model.model_fields.values():
            for inner in _models_in(field.annotation):
                collect(inner)

    for model, mode in wanted:
        if mode == "serialization" and isinstance(model, type) and issubclass(model, Output):
            collect(model)
    return outputs


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in getattr(annotation, "__args__", ()) for model in _models_in(arg)]


def _public_name(name: str) -> str:
    """What a client sees a model called: ``PostOut`` is ``Post``."""
    return re.sub(r"Out(?=$|List$|Or)", "", name)


def _renamed(value: Any, names: dict[str, str], prefix: str) -> Any:
    if isinstance(value, dict):
        renamed = {key: _renamed(item, names, prefix) for key, item in value.items()}
        ref = renamed.get("$ref")
        if isinstance(ref, str) and ref.startswith(prefix):
            name = ref[len(prefix) :]
            renamed["$ref"] = prefix + names.get(name, name)
        if isinstance(renamed.get("title"), str) and renamed["title"] in names:
            renamed["title"] = names[renamed["title"]]
        return renamed
    if isinstance(value, list):
        return [_renamed(item, names, prefix) for item in value]
    return value


def _operation(
    contract: Contract,
    refs: dict[tuple[Any, JsonSchemaMode], dict[str, str]],
    schemas: dict[str, Any],
) -> dict[str, Any]:
    summary, _, details = contract.summary.partition("\n")
    operation: dict[str, Any] = {
        "operationId": contract.view_name,
        "tags": [contract.feature],
        "summary": summary.strip(),
    }
    if details.strip():
        operation["description"] = details.strip()
    operation["security"] = [] if contract.public else [{"bearer": []}]
    parameters = _parameters(contract, schemas)
    if parameters:
        operation["parameters"] = parameters
    if contract.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(contract.body[1], "validation")]}},
        }
    operation["responses"] = _responses(contract, refs)
    return operation


def _parameters(contract: Contract, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(contract, name)}
        for name in contract.path_params
    ]
    if contract.query is not None:
        # Each field of the query model is a parameter; the model's component lists them.
        schema = schemas[_public_name(contract.query[1].__name__)]
        required = set(schema.get("required", ()))
        for name, described in schema.get("properties", {}).items():
            field_schema = {key: value for key, value in described.items() if key != "title"}
            parameter = {"name": name, "in": "query", "required": name in required}
            if "description" in field_schema:
                parameter["description"] = field_schema.pop("description")
            parameters.append({**parameter, "schema": field_schema})
    if contract.is_list:
        parameters += [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": "How many items a page holds.",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT,
                },
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "The next_cursor of the page before; absent for the first.",
                "schema": {"type": "string", "maxLength": MAX_CURSOR_LENGTH},
            },
        ]
    if contract.operation.idempotent:
        parameters.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "A retry with the same key and body returns the first response "
                "and creates nothing new (a UUID is best).",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_KEY_LENGTH,
                    "pattern": "^[ -~]+$",
                },
            }
        )
    return parameters


def _path_schema(contract: Contract, name: str) -> dict[str, Any]:
    """What ``operations.serve`` checks a path parameter against: an ``Id`` unless the view
    annotates it otherwise."""
    return TypeAdapter(contract.path_types.get(name, Id)).json_schema()


def _responses(
    contract: Contract, refs: dict[tuple[Any, JsonSchemaMode], dict[str, str]]
) -> dict[str, Any]:
    success: dict[str, Any] = {"description": SUCCESS_DESCRIPTIONS[contract.status]}
    if contract.response is not None:
        success["content"] = {
            "application/json": {"schema": refs[(contract.response, "serialization")]}
        }
    headers = {}
    if contract.operation.rate_limit:
        headers.update(RATE_LIMIT_HEADERS)
    if contract.operation.idempotent:
        headers[REPLAYED_HEADER] = {
            "description": "true when this is the stored response to an earlier request.",
            "schema": {"type": "string", "enum": ["true"]},
        }
    if headers:
        success["headers"] = headers
    responses: dict[str, Any] = {str(contract.status): success}
    error = {"application/json": {"schema": refs[(ErrorOut, "serialization")]}}
    for status in contract.documented_errors:
        response: dict[str, Any] = {"description": ERROR_DESCRIPTIONS[status], "content": error}
        if status == 429:
            response["headers"] = {"Retry-After": RETRY_AFTER, **RATE_LIMIT_HEADERS}
        elif status == 401:
            response["headers"] = {
                "WWW-Authenticate": {"schema": {"type": "string", "enum": ["Bearer"]}}
            }
        responses[str(status)] = response
    return responses


RETRY_AFTER = {
    "description": "Seconds until the limit's window resets.",
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {
        "description": "How many of these the caller may do in the current window.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "X-RateLimit-Remaining": {
        "description": "How many are left in the current window.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "X-RateLimit-Reset": {
        "description": "When the window resets, in epoch seconds.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}
