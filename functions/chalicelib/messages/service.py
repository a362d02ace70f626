"""Sending and reading direct messages, and marking them read.

Every message is stored before anything is pushed (``repository.append_message``), and the
stored history is what a client catches up from, so a push that fails loses nothing: the
pusher logs it, forgets a connection API Gateway reports gone, and the send still succeeds.

Only members read a conversation. Anyone else gets 403, whether or not the conversation
exists: ids are derived from the members, so a 404 would tell a stranger that two people
talk.
"""

from __future__ import annotations

from chalicelib.core.clock import utc_now
from chalicelib.core.errors import InvalidInput, NotAllowed, NotFound
from chalicelib.core.observability import logger, metrics
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.messages import repository
from chalicelib.messages.domain import (
    ConversationSummary,
    Draft,
    Message,
    ReadReceipt,
    Sent,
    conversation_id_of,
    is_conversation_id,
)
from chalicelib.messages.schemas import (
    ConversationOut,
    MessageFrame,
    ReadReceiptFrame,
    SendMessageInput,
    render_conversation,
    render_message,
)
from chalicelib.users import repository as users
from chalicelib.websocket.push import FramePusher

NOT_A_MEMBER = "you are not in this conversation"


def send_message(
    sender_id: str,
    details: SendMessageInput,
    pusher: FramePusher,
    origin_connection: str | None = None,
) -> Sent:
    """Store the message (once per ``client_id``), then push it.

    Every open connection of both members gets ``{"type": "message", "message"}``, except
    ``origin_connection``: the connection the send came in on, which gets its ack from the
    caller instead. A resend of a stored ``client_id`` pushes the stored message again:
    delivery is at-least-once, and the first push may be what failed.

    Yourself as ``to``: 400. An unknown recipient, or one who blocked the sender: 404; one
    the sender blocked: 403 (all checked in the send's transaction).
    """
    if details.to == sender_id:
        raise InvalidInput("to: you cannot message yourself")
    draft = Draft(
        conversation_id=conversation_id_of(sender_id, details.to),
        sender_id=sender_id,
        recipient_id=details.to,
        client_id=details.client_id,
        text=details.text,
    )
    sent = repository.append_message(draft, utc_now())
    if sent.created:
        logger.info("message sent", conversation_id=draft.conversation_id, seq=sent.message.seq)
        metrics.add_metric(name="MessagesSent", unit="Count", value=1)
    else:
        logger.info("message resent", conversation_id=draft.conversation_id, seq=sent.message.seq)
    frame = MessageFrame(message=render_message(sent.message)).model_dump(mode="json")
    for member in (details.to, sender_id):
        pusher.push_frame(member, frame, skip_connection=origin_connection)
    return sent


def mark_read(reader_id: str, conversation_id: str, seq: int, pusher: FramePusher) -> ReadReceipt:
    """Move the reader's read pointer forward to ``seq`` and tell the other member.

    The pointer never moves back; marking at or below it changes and pushes nothing. A
    ``seq`` past the last message: 400. Not a member: 403.
    """
    summary = _summary_for_member(reader_id, conversation_id)
    receipt = ReadReceipt(conversation_id, reader_id, summary.other_user_id, seq)
    if repository.move_read_pointer(reader_id, conversation_id, seq):
        frame = ReadReceiptFrame(conversation_id=conversation_id, user_id=reader_id, seq=seq)
        pusher.push_frame(summary.other_user_id, frame.model_dump(mode="json"))
    return receipt


def messages_of(
    reader_id: str, conversation_id: str, after_seq: int, page: PageRequest
) -> Page[Message]:
    """The conversation's messages after ``after_seq``, oldest first; members only."""
    _summary_for_member(reader_id, conversation_id)
    return repository.messages_after(conversation_id, after_seq, page)


def ensure_message_readable(reader_id: str, conversation_id: str, seq: int) -> None:
    """403 unless the reader is a member; 404 for a seq the conversation never reached."""
    summary = _summary_for_member(reader_id, conversation_id)
    if not 1 <= seq <= summary.last_seq:
        raise NotFound("no message with that seq in this conversation")


def conversations_of(user_id: str, page: PageRequest) -> Page[ConversationOut]:
    """The user's conversations, latest activity first, with the other member's summary."""
    summaries = repository.inbox_page(user_id, page)
    others = users.get_users(summary.other_user_id for summary in summaries.items)
    return Page(
        [
            render_conversation(summary, others.get(summary.other_user_id))
            for summary in summaries.items
        ],
        summaries.position,
    )


def _summary_for_member(user_id: str, conversation_id: str) -> ConversationSummary:
    summary = (
        repository.summary_of(user_id, conversation_id)
        if is_conversation_id(conversation_id)
        else None
    )
    if summary is None:
        raise NotAllowed(NOT_A_MEMBER)
    return summary
