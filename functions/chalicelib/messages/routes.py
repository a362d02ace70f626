from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.idempotency import created_once
from chalicelib.api.requests import body, caller, list_body, page_request
from chalicelib.core.config import get_settings
from chalicelib.core.errors import InvalidInput
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.notifications.push import FramePusher

service = lazy_module("chalicelib.messages.service")
schemas = lazy_module("chalicelib.messages.schemas")
push = lazy_module("chalicelib.notifications.push")

messages_api = Blueprint(__name__)
MAX_SEQ = 10**15


def message_pusher(configured_by_event: bool = False) -> FramePusher:
    """The one place the push port of messages is resolved.

    A WebSocket event configures the app's ``websocket_api`` (Chalice does, from the event);
    a REST request has none, so the API named in the settings is used, as for notifications.
    """
    websocket_api = messages_api.current_app.websocket_api
    if not configured_by_event:
        settings = get_settings()
        if not (settings.websocket_api_id and settings.websocket_stage):
            return push.NoLivePush()
        websocket_api.configure_from_api_id(settings.websocket_api_id, settings.websocket_stage)
    return push.WebSocketPusher(websocket_api)


def _after_seq(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_SEQ:
        raise InvalidInput("after_seq must be a whole number, 0 or more")
    return int(raw)


@messages_api.route("/messages", methods=["POST"])
def send_message() -> Response:
    request = messages_api.current_request
    sender, details = caller(request), body(request, schemas.SendMessageInput)
    return created_once(
        messages_api, "POST /messages", sender.user_id, details,
        lambda: schemas.render_message(
            service.send_message(sender.user_id, details, message_pusher()).message
        ),
    )  # fmt: skip


@messages_api.route("/conversations", methods=["GET"])
def conversations() -> dict:
    request = messages_api.current_request
    me = caller(request)
    scope = f"conversations:{me.user_id}"
    return list_body(
        service.conversations_of(me.user_id, page_request(request, scope)), scope, dict
    )


@messages_api.route("/conversations/{conversation_id}/messages", methods=["GET"])
def conversation_messages(conversation_id: str) -> dict:
    request = messages_api.current_request
    after_seq = _after_seq((request.query_params or {}).get("after_seq"))
    scope = f"messages:{conversation_id}:{after_seq}"
    page = service.messages_of(
        caller(request).user_id, conversation_id, after_seq, page_request(request, scope)
    )
    return list_body(page, scope, schemas.render_message)
