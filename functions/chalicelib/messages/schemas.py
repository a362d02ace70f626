"""Direct messages' bodies and frames in, and the message and conversation out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from chalicelib.core.clock import iso
from chalicelib.core.schema import PlainText, StrictInput
from chalicelib.messages.domain import MAX_CLIENT_ID, MAX_TEXT, ConversationSummary, Message

UserId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
ConversationId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
# A UUID is best; any 1..128 of letters, digits and ._:- will do.
ClientId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_CLIENT_ID, pattern=r"^[A-Za-z0-9._:-]+$")
]
MessageText = Annotated[PlainText, StringConstraints(min_length=1, max_length=MAX_TEXT)]
# Up to DynamoDB's largest exact integer: bigger is bad input, not a server error.
Seq = Annotated[int, Field(ge=0, le=10**15)]


class SendMessageInput(StrictInput):
    """``POST /messages``, and the fields of a ``send`` frame."""

    to: UserId
    text: MessageText
    client_id: ClientId

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("must not be blank")
        return text


class SendFrame(SendMessageInput):
    action: Literal["send"]


class ReadFrame(StrictInput):
    action: Literal["read"]
    conversation_id: ConversationId
    seq: Seq


def render_message(message: Message) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "conversation_id": message.conversation_id,
        "sender_id": message.sender_id,
        "text": message.text,
        "seq": message.seq,
        "sent_at": iso(message.sent_at),
    }


def render_conversation(summary: ConversationSummary) -> dict[str, Any]:
    return {
        "conversation_id": summary.conversation_id,
        "other_user_id": summary.other_user_id,
        "last_seq": summary.last_seq,
        "read_seq": summary.read_seq,
        "unread_count": summary.unread_count,
        "last_message": render_message(summary.last_message) if summary.last_message else None,
    }
