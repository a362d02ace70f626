"""What a client sends on the WebSocket (``$default``): ``send`` and ``read`` frames.

A frame that cannot be done (not JSON, an unknown action, a missing or wrong field, text
too long, a conversation that is not the sender's) is answered on the same connection with
``{"type": "error", "code", "message"}`` (and the frame's ``client_id`` when it had one),
and the connection stays open. Only a connection that is not signed in any more is closed
after its error frame: once the token it was opened with has expired (``TokenExpired``), it
takes no frame, and the client reconnects with a fresh token.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core.errors import DomainError, InvalidInput, NotAuthenticated, RateLimited
from chalicelib.core.observability import logger
from chalicelib.core.schema import validate_input
from chalicelib.messages import service
from chalicelib.messages.domain import MAX_CLIENT_ID
from chalicelib.messages.schemas import (
    AckFrame,
    ErrorFrame,
    ReadFrame,
    SendFrame,
    SendMessageInput,
    render_message,
)
from chalicelib.websocket import service as connections
from chalicelib.websocket.push import FramePusher

ACTIONS = ("send", "read")


def handle_frame(connection_id: str, body: str | None, pusher: FramePusher) -> None:
    """Do what one client frame asks, answering on its connection; never raises."""
    frame: Any = None
    try:
        # First: a connection whose token has expired takes no frame, well formed or not.
        user_id = connections.signed_in_user(connection_id)
        frame = _parse(body)
        if frame["action"] == "send":
            send = validate_input(SendFrame, frame)
            details = SendMessageInput(to=send.to, text=send.text, client_id=send.client_id)
            sent = service.send_message(user_id, details, pusher, origin_connection=connection_id)
            ack = AckFrame(client_id=send.client_id, message=render_message(sent.message))
            pusher.send_frame(connection_id, ack.model_dump(mode="json"))
        else:
            read = validate_input(ReadFrame, frame)
            service.mark_read(user_id, read.conversation_id, read.seq, pusher)
    except NotAuthenticated as error:
        pusher.send_frame(connection_id, _error_frame(error.code, error.message, _quietly(body)))
        _close(connection_id, pusher)
    except DomainError as error:
        # A rate limit's retry_after is what REST says in Retry-After.
        retry_after = error.retry_after_seconds if isinstance(error, RateLimited) else None
        pusher.send_frame(
            connection_id, _error_frame(error.code, error.message, frame, retry_after)
        )
    except Exception:
        logger.exception("websocket frame failed", connection_id=connection_id)
        pusher.send_frame(
            connection_id,
            _error_frame("InternalError", "the frame could not be handled; retry it", frame),
        )


def _close(connection_id: str, pusher: FramePusher) -> None:
    """Close a connection that is not signed in any more, and forget it now ($disconnect
    will too): nothing is pushed to it meanwhile."""
    logger.info("closing a connection that is not signed in", connection_id=connection_id)
    pusher.close(connection_id)
    connections.close_connection(connection_id)


def _quietly(body: str | None) -> Any:
    """The frame as far as it parses (for its client_id), or None."""
    try:
        return json.loads(body or "")
    except (ValueError, RecursionError):
        return None


def _parse(body: str | None) -> dict[str, Any]:
    try:
        frame = json.loads(body or "")
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("a frame must be a JSON object with an action") from exc
    if not isinstance(frame, dict):
        raise InvalidInput("a frame must be a JSON object with an action")
    try:
        json.dumps(frame, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:  # JSON can spell a lone surrogate, which nothing stores
        raise InvalidInput("the frame contains text that is not valid Unicode") from exc
    if frame.get("action") not in ACTIONS:
        raise InvalidInput(f"action must be one of: {', '.join(ACTIONS)}")
    return frame


def _error_frame(
    code: str, message: str, frame: Any, retry_after: int | None = None
) -> dict[str, Any]:
    client_id = frame.get("client_id") if isinstance(frame, dict) else None
    if not (isinstance(client_id, str) and len(client_id) <= MAX_CLIENT_ID):
        client_id = None
    error = ErrorFrame(code=code, message=message, client_id=client_id, retry_after=retry_after)
    return error.model_dump(mode="json")
