from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.operations import operation
from chalicelib.api.requests import as_is, caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.core import schema
    from chalicelib.messages import schemas, service
    from chalicelib.websocket import push
else:
    schema = lazy_module("chalicelib.core.schema")
    schemas = lazy_module("chalicelib.messages.schemas")
    service = lazy_module("chalicelib.messages.service")
    push = lazy_module("chalicelib.websocket.push")

messages_api = Blueprint(__name__)


@messages_api.route("/messages", methods=["POST"])
@operation(status=201, idempotent=True, rate_limit="messages", errors=(403, 404))
def send_message(details: schemas.SendMessageInput) -> schemas.MessageOut:
    """Send a direct message, as the WebSocket's send frame does.

    A resend with the same client_id returns the message stored the first time.
    """
    sender = caller(messages_api.current_request)
    pusher = push.frame_pusher(messages_api.current_app.websocket_api)
    sent = service.send_message(sender.user_id, details, pusher)
    return schemas.render_message(sent.message)


@messages_api.route("/conversations", methods=["GET"])
def conversations() -> schema.ListOf[schemas.ConversationOut]:
    """Your conversations, latest activity first, with their unread counts."""
    request = messages_api.current_request
    paging = page_request(request)
    page = service.conversations_of(caller(request).user_id, paging)
    return list_body(page, paging, as_is)


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
