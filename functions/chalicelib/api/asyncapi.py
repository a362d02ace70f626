"""The AsyncAPI 3.0 document of the WebSocket API: the frames a client sends and receives.

Generated from the same pydantic models that parse the frames clients send
(``SendFrame``, ``ReadFrame``) and build the frames we push (``chalicelib.messages.schemas``,
``chalicelib.notifications.schemas``), as ``chalicelib.api.openapi`` is for REST. ``make
openapi`` writes it to ``docs/asyncapi.json``. Nothing here runs in a deployed function.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from chalicelib.api.openapi import VERSION, component_schemas
from chalicelib.messages.schemas import (
    AckFrame,
    ErrorFrame,
    MessageFrame,
    ReadFrame,
    ReadReceiptFrame,
    SendFrame,
)
from chalicelib.notifications.schemas import NotificationFrame

SCHEMAS = "#/components/schemas/"
CHANNEL = "connection"

# (name, model, summary): what a client sends, answered on the same connection.
CLIENT_FRAMES: list[tuple[str, type[BaseModel], str]] = [
    ("send", SendFrame, "Send a direct message; answered with an ack (or an error frame)."),
    ("read", ReadFrame, "Mark a conversation read up to seq; the other member is told."),
]
# What the server pushes.
SERVER_FRAMES: list[tuple[str, type[BaseModel], str]] = [
    ("ack", AckFrame, "The message a send stored, to the connection it came in on."),
    ("message", MessageFrame, "A new message, to every other open connection of both members."),
    ("readReceipt", ReadReceiptFrame, "The other member read up to seq."),
    ("notification", NotificationFrame, "A notification, as GET /notifications lists it."),
    ("error", ErrorFrame, "A frame could not be done; the connection stays open."),
]

DESCRIPTION = (
    "Direct messages and live notifications. Connect with `?token=<token>` (the token "
    "POST /auth/login answers); a missing or bad token is refused at connect with 401. "
    "Every frame is a JSON object: clients send frames with an `action`, the server pushes "
    "frames with a `type`. Delivery is at-least-once: a send repeated with the same "
    "`client_id` is acknowledged with the message stored the first time, and after a "
    "reconnect a client catches up with GET /conversations/{id}/messages?after_seq=."
)


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the WebSocket API."""
    models: list[tuple[Any, JsonSchemaMode]] = [
        (model, "validation") for _, model, _ in CLIENT_FRAMES
    ] + [(model, "serialization") for _, model, _ in SERVER_FRAMES]
    schemas, refs = component_schemas(models, SCHEMAS)
    messages = {
        name: {
            "name": name,
            "title": refs[(model, mode)]["$ref"].removeprefix(SCHEMAS),
            "summary": summary,
            "contentType": "application/json",
            "payload": refs[(model, mode)],
        }
        for (name, model, summary), (_, mode) in zip(
            CLIENT_FRAMES + SERVER_FRAMES, models, strict=True
        )
    }
    channel_messages = {name: {"$ref": f"#/components/messages/{name}"} for name in messages}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Shutter WebSocket API", "version": VERSION, "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:8001",
                "protocol": "ws",
                "description": "the local stack (make run)",
            }
        },
        "channels": {
            CHANNEL: {
                "address": "/",
                "title": "One WebSocket connection",
                "messages": channel_messages,
                "bindings": {
                    "ws": {
                        "query": {
                            "type": "object",
                            "properties": {
                                "token": {
                                    "type": "string",
                                    "description": "The caller's token (POST /auth/login).",
                                }
                            },
                            "required": ["token"],
                        }
                    }
                },
            }
        },
        "operations": {
            **{
                f"receive_{name}": _operation("receive", name, summary)
                for name, _, summary in CLIENT_FRAMES
            },
            **{
                f"send_{name}": _operation("send", name, summary)
                for name, _, summary in SERVER_FRAMES
            },
        },
        "components": {
            "schemas": schemas,
            "messages": messages,
        },
    }


def _operation(action: str, name: str, summary: str) -> dict[str, Any]:
    return {
        "action": action,
        "summary": summary,
        "channel": {"$ref": f"#/channels/{CHANNEL}"},
        "messages": [{"$ref": f"#/channels/{CHANNEL}/messages/{name}"}],
    }
