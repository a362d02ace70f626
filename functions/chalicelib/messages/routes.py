from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.operations import operation
from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.config import get_settings
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.core import schema
    from chalicelib.messages import schemas, service
    from chalicelib.notifications import push
    from chalicelib.notifications.push import FramePusher
else:
    schema = lazy_module("chalicelib.core.schema")
    schemas = lazy_module("chalicelib.messages.schemas")
    service = lazy_module("chalicelib.messages.service")
    push = lazy_module("chalicelib.notifications.push")

messages_api = Blueprint(__name__)


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


@messages_api.route("/messages", methods=["POST"])
@operation(status=201, idempotent=True, rate_limit="messages", errors=(403, 404))
def send_message(details: schemas.SendMessageInput) -> schemas.MessageOut:
    """Send a direct message, as the WebSocket's send frame does.

    A resend with the same client_id returns the message stored the first time.
    """
    sender = caller(messages_api.current_request)
    sent = service.send_message(sender.user_id, details, message_pusher())
    return schemas.render_message(sent.message)


@messages_api.route("/conversations", methods=["GET"])
def conversations() -> schema.ListOf[schemas.ConversationOut]:
    """Your conversations, latest activity first, with their unread counts."""
    request = messages_api.current_request
    paging = page_request(request)
    page = service.conversations_of(caller(request).user_id, paging)
    return list_body(page, paging, lambda pair: schemas.render_conversation(*pair))


@messages_api.route("/conversations/{conversation_id}/messages", methods=["GET"])
@operation(errors=(403,))
def conversation_messages(
    conversation_id: str, query: schemas.MessagesQuery
) -> schema.ListOf[schemas.MessageOut]:
    """A conversation's messages after ``after_seq``, oldest first (members only: 403)."""
    request = messages_api.current_request
    paging = page_request(request, f"after_seq={query.after_seq}")
    page = service.messages_of(caller(request).user_id, conversation_id, query.after_seq, paging)
    return list_body(page, paging, schemas.render_message)
