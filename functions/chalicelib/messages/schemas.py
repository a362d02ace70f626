"""Direct messages' bodies and frames in, and the message, conversation and frames out.

The frame models here describe the WebSocket protocol in ``docs/asyncapi.json``
(``chalicelib.api.asyncapi``) as well as building what is sent."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.core.clock import iso
from chalicelib.core.schema import (
    WHOLE_NUMBER,
    Id,
    NonBlankText,
    Output,
    QueryInput,
    StrictInput,
)
from chalicelib.messages.domain import MAX_CLIENT_ID, MAX_TEXT, ConversationSummary, Message
from chalicelib.users.domain import User
from chalicelib.users.schemas import UserRefOut, render_ref

UserId = Id
ConversationId = Id
# A UUID is best; any 1..128 of letters, digits and ._:- will do.
ClientId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_CLIENT_ID, pattern=r"^[A-Za-z0-9._:-]+$")
]
MessageText = Annotated[NonBlankText, StringConstraints(min_length=1, max_length=MAX_TEXT)]
# Up to DynamoDB's largest exact integer: bigger is bad input, not a server error.
Seq = Annotated[int, Field(ge=0, le=10**15), WHOLE_NUMBER]


class SendMessageInput(StrictInput):
    """``POST /messages``, and the fields of a ``send`` frame."""

    to: UserId
    text: MessageText
    client_id: ClientId


class SendFrame(SendMessageInput):
    action: Literal["send"]


class ReadFrame(StrictInput):
    action: Literal["read"]
    conversation_id: ConversationId
    seq: Seq


class MessagesQuery(QueryInput):
    after_seq: Seq = Field(0, description="Only messages after this seq (0: from the first).")


class MessageOut(Output):
    message_id: str
    conversation_id: str
    sender_id: str
    text: str
    seq: int = Field(description="1, 2, 3... per conversation, in the order sends were accepted.")
    sent_at: str


class ConversationOut(Output):
    conversation_id: str
    other_user_id: str
    other_user: UserRefOut | None = Field(description="Null once that account is deleted.")
    last_seq: int
    read_seq: int = Field(description="The caller has read every message up to this seq.")
    unread_count: int
    last_message: MessageOut | None


class AckFrame(Output):
    """To the connection a ``send`` came in on: the message as stored (a resend of the same
    ``client_id`` is acknowledged with the message stored the first time)."""

    type: Literal["ack"] = "ack"
    client_id: str
    message: MessageOut


class MessageFrame(Output):
    """To every open connection of both members, but the one the send came in on."""

    type: Literal["message"] = "message"
    message: MessageOut


class ReadReceiptFrame(Output):
    """To the other member's connections when a member reads up to ``seq``."""

    type: Literal["read"] = "read"
    conversation_id: str
    user_id: str = Field(description="Who read.")
    seq: int


class ErrorFrame(Output):
    """To the connection whose frame could not be done; the connection stays open, unless
    it is not signed in any more (``TokenExpired``, ``UnauthorizedError``): then it is
    closed after this frame, and the client reconnects with a fresh token."""

    type: Literal["error"] = "error"
    code: str = Field(
        examples=["BadRequestError", "TooManyRequestsError", "TokenExpired"],
        description="The error's code, as REST's Code. TokenExpired: the token the "
        "connection was opened with has expired (its exp); the connection is closed and takes "
        "no frame. UnauthorizedError: the connection is not signed in (closed too).",
    )
    message: str
    client_id: str | None = Field(description="The failed send's client_id, if it had one.")
    retry_after: int | None = Field(description="Over a rate limit: seconds until it resets.")


def render_message(message: Message) -> MessageOut:
    return MessageOut(
        message_id=message.message_id,
        conversation_id=message.conversation_id,
        sender_id=message.sender_id,
        text=message.text,
        seq=message.seq,
        sent_at=iso(message.sent_at),
    )


def render_conversation(summary: ConversationSummary, other: User | None) -> ConversationOut:
    return ConversationOut(
        conversation_id=summary.conversation_id,
        other_user_id=summary.other_user_id,
        other_user=render_ref(other) if other else None,
        last_seq=summary.last_seq,
        read_seq=summary.read_seq,
        unread_count=summary.unread_count,
        last_message=render_message(summary.last_message) if summary.last_message else None,
    )
