"""The messages table family: conversations, their messages, sends, and each member's inbox.

- conversations: one item per conversation, its members and ``last_seq``, the counter that
  numbers its messages.
- messages: one item per (conversation, seq), so a Query lists a conversation oldest first
  and ``seq > after_seq`` is a key condition.
- message_sends: one item per (conversation, sender, client_id) naming the seq it got: what
  makes a resend return the first message instead of storing a second.
- inboxes: one item per (member, conversation): the latest message, ``last_seq`` and the
  member's read pointer ``read_seq``; the ``inbox_by_activity`` index lists a member's
  conversations latest activity first.

A send is one TransactWriteItems over all five items (see ``append_message``), so there is
no moment where a seq is taken but its message is not stored.
"""

from __future__ import annotations

import functools
import random
import time
from datetime import datetime

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import GetError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, LocalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.clock import iso
from chalicelib.core.dynamodb import (
    BaseMeta,
    FromSettings,
    cancelled_item,
    failed_items,
    page_of,
    transact,
)
from chalicelib.core.errors import DependencyUnavailable, InvalidInput, NotFound
from chalicelib.core.ids import new_ulid
from chalicelib.core.memo import BoundedMemo
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.follows import blocks_repository as blocks
from chalicelib.limits import repository as limits
from chalicelib.limits.domain import Action
from chalicelib.messages.domain import ConversationSummary, Draft, Message, Sent
from chalicelib.users import repository as users

# Sends to one conversation race on its counter; a loser learns its value from the
# cancellation and retries after a jittered pause that grows, so no sender starves.
SEND_ATTEMPTS = 60


class ConversationItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("conversations_table")

    conversation_id = UnicodeAttribute(hash_key=True)
    member_ids = ListAttribute(of=UnicodeAttribute)
    last_seq = NumberAttribute(default=0)


class MessageItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("messages_table")

    conversation_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    message_id = UnicodeAttribute()
    sender_id = UnicodeAttribute()
    text = UnicodeAttribute()
    sent_at = UnicodeAttribute()
    client_id = UnicodeAttribute()


class MessageSendItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("message_sends_table")

    # "<conversation id>#<sender id>#<client id>": the first two never hold "#".
    send_key = UnicodeAttribute(hash_key=True)
    conversation_id = UnicodeAttribute()
    seq = NumberAttribute()


class MessageAttribute(MapAttribute[str, object]):
    message_id = UnicodeAttribute()
    sender_id = UnicodeAttribute()
    text = UnicodeAttribute()
    seq = NumberAttribute()
    sent_at = UnicodeAttribute()


class InboxByActivity(LocalSecondaryIndex["InboxItem"]):
    class Meta:
        index_name = "inbox_by_activity"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    activity_key = UnicodeAttribute(range_key=True)


class InboxItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("inboxes_table")

    user_id = UnicodeAttribute(hash_key=True)
    conversation_id = UnicodeAttribute(range_key=True)
    other_user_id = UnicodeAttribute()
    last_seq = NumberAttribute(default=0)
    read_seq = NumberAttribute(default=0)
    # "<sent_at>#<conversation id>": unique, and sorts by the latest message's time.
    activity_key = UnicodeAttribute()
    last_message = MessageAttribute(null=True)

    by_activity = InboxByActivity()


# Mapping ------------------------------------------------------------------------------------


def _to_message(item: MessageItem) -> Message:
    return Message(
        message_id=item.message_id,
        conversation_id=item.conversation_id,
        sender_id=item.sender_id,
        text=item.text,
        seq=int(item.seq),
        sent_at=datetime.fromisoformat(item.sent_at),
    )


def _to_summary(item: InboxItem) -> ConversationSummary:
    last = item.last_message
    return ConversationSummary(
        conversation_id=item.conversation_id,
        user_id=item.user_id,
        other_user_id=item.other_user_id,
        last_seq=int(item.last_seq),
        read_seq=int(item.read_seq),
        last_message=Message(
            message_id=last.message_id,
            conversation_id=item.conversation_id,
            sender_id=last.sender_id,
            text=last.text,
            seq=int(last.seq),
            sent_at=datetime.fromisoformat(last.sent_at),
        )
        if last is not None
        else None,
    )


def _send_key(conversation_id: str, sender_id: str, client_id: str) -> str:
    return f"{conversation_id}#{sender_id}#{client_id}"


# Sending ------------------------------------------------------------------------------------


# In PynamoDB's send order: condition checks (the recipient, then the two block checks),
# puts, updates; the rate-limit charge last.
SEND_ITEMS = (
    "recipient", *blocks.BLOCK_CHECKS, "send", "message", "counter", "sender_inbox",
    "recipient_inbox", "limit",
)  # fmt: skip

# The last seq this Lambda stored per conversation: the next send's first guess, so a warm
# Lambda sends with one request. A stale guess costs one cancelled transaction, whose
# cancellation reason carries the counter as it is.
_last_seq_stored: BoundedMemo[str, int] = BoundedMemo(capacity=10_000)


def append_message(draft: Draft, now: datetime) -> Sent:
    """Store the draft as the conversation's next message, once per ``client_id``.

    One TransactWriteItems, all or nothing:

    0. a check that the recipient exists (``NotFound`` otherwise), and two that neither
       member blocked the other (``NotFound`` to a sender the recipient blocked, as for an
       unknown recipient; ``NotAllowed`` to a sender who blocked the recipient);
    1. the send item ``(conversation, sender, client_id) -> seq``, only if it does not exist;
    2. the message at ``seq``, only if that slot is free;
    3. the conversation's counter, set to ``seq`` only if it still holds ``seq - 1``;
    4. and 5. both members' inbox items: the latest message, and the sender's read pointer;
    6. the sender's message counter for the day (``RateLimited`` once it is at the limit).

    A transaction cannot return what an update wrote, so the seq is guessed first: the last
    one this Lambda stored, or else the counter read just before. The counter's condition
    makes the reservation exact: a concurrent send that took ``seq`` first cancels this one,
    and the cancellation returns the counter's current value to retry with. A crash anywhere
    leaves either all five writes or none, so no seq is ever skipped and no retry stores a
    second copy: a resend's send item condition fails, and the first message is returned.

    Raises ``DependencyUnavailable`` after ``SEND_ATTEMPTS`` lost races in a row.
    """
    send_key = _send_key(draft.conversation_id, draft.sender_id, draft.client_id)
    # Stored with milliseconds: what is returned now equals what is read back later.
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    last_seq = _last_seq_stored.get(draft.conversation_id)
    for attempt in range(SEND_ATTEMPTS):
        if last_seq is None:
            last_seq = _last_seq(draft.conversation_id)
        message = Message(
            message_id=new_ulid(now),
            conversation_id=draft.conversation_id,
            sender_id=draft.sender_id,
            text=draft.text,
            seq=last_seq + 1,
            sent_at=now,
        )
        try:
            transact(
                functools.partial(_build_send, draft=draft, message=message, send_key=send_key)
            )
            _last_seq_stored.remember(draft.conversation_id, message.seq)
            return Sent(message, created=True)
        except TransactWriteError as exc:
            failed = failed_items(exc, SEND_ITEMS)
            if "send" in failed and (stored := _message_sent_as(send_key)) is not None:
                return Sent(stored, created=False)
            if "recipient" in failed:
                raise NotFound("no user with that id") from exc
            blocks.refuse_if_blocked(failed)
            limits.refuse_if_exceeded(exc, Action.MESSAGES, now)
            if not failed & {"counter", "message"}:
                raise DependencyUnavailable("could not send the message; retry shortly") from exc
            last_seq = _counter_in(exc)
        # Another send took this seq: back off a little (jittered), so that a sender on a
        # winning streak cannot starve the others, and try the next one.
        time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))  # noqa: S311 - jitter
    raise DependencyUnavailable("too many messages at once in this conversation; retry shortly")


def _counter_in(exc: TransactWriteError) -> int | None:
    """The counter's value when the transaction was cancelled; None when unknown."""
    raw = cancelled_item(exc, SEND_ITEMS, "counter")
    if raw is None:
        return None
    return int(ConversationItem.from_raw_data(raw).last_seq or 0)


def _build_send(transaction: TransactWrite, draft: Draft, message: Message, send_key: str) -> None:
    seq = message.seq
    users.require_user(transaction, draft.recipient_id)
    blocks.require_no_block(transaction, draft.sender_id, draft.recipient_id)
    transaction.save(
        MessageSendItem(send_key, conversation_id=draft.conversation_id, seq=seq),
        condition=MessageSendItem.send_key.does_not_exist(),
    )
    transaction.save(
        MessageItem(
            draft.conversation_id,
            seq,
            message_id=message.message_id,
            sender_id=draft.sender_id,
            text=draft.text,
            sent_at=iso(message.sent_at),
            client_id=draft.client_id,
        ),
        condition=MessageItem.seq.does_not_exist(),
    )
    counter_condition = (
        ConversationItem.last_seq == seq - 1
        if seq > 1
        else ConversationItem.conversation_id.does_not_exist()
    )
    # The condition pins the counter's value, so writing the whole item is the same as
    # adding one to it (and cheaper for the embedded AWS to evaluate than an update).
    transaction.save(
        ConversationItem(
            draft.conversation_id,
            member_ids=sorted((draft.sender_id, draft.recipient_id)),
            last_seq=seq,
        ),
        condition=counter_condition,
        return_values="ALL_OLD",
    )
    last = MessageAttribute(
        message_id=message.message_id,
        sender_id=message.sender_id,
        text=message.text,
        seq=seq,
        sent_at=iso(message.sent_at),
    )
    activity_key = f"{iso(message.sent_at)}#{draft.conversation_id}"
    for member, other, read_seq in (
        (draft.sender_id, draft.recipient_id, seq),
        (draft.recipient_id, draft.sender_id, None),
    ):
        transaction.update(
            InboxItem(member, draft.conversation_id),
            actions=[
                InboxItem.other_user_id.set(other),
                InboxItem.last_seq.set(seq),
                # The sender has seen everything up to their own message.
                InboxItem.read_seq.set(
                    read_seq if read_seq is not None else InboxItem.read_seq | 0
                ),
                InboxItem.activity_key.set(activity_key),
                InboxItem.last_message.set(last),
            ],
        )
    limits.charge(transaction, draft.sender_id, Action.MESSAGES, message.sent_at)  # last


def _last_seq(conversation_id: str) -> int:
    try:
        item = ConversationItem.get(
            conversation_id, consistent_read=True, attributes_to_get=["last_seq"]
        )
    except ConversationItem.DoesNotExist:
        return 0
    except GetError as exc:
        raise DependencyUnavailable("could not read the conversation; retry shortly") from exc
    return int(item.last_seq or 0)


def _message_sent_as(send_key: str) -> Message | None:
    try:
        sent = MessageSendItem.get(send_key, consistent_read=True)
        return _to_message(MessageItem.get(sent.conversation_id, sent.seq, consistent_read=True))
    except (MessageSendItem.DoesNotExist, MessageItem.DoesNotExist):
        return None
    except GetError as exc:
        raise DependencyUnavailable("could not read the message; retry shortly") from exc


# Reading --------------------------------------------------------------------------------------


def summary_of(user_id: str, conversation_id: str) -> ConversationSummary | None:
    """The member's inbox item for the conversation; None when they are not a member."""
    try:
        return _to_summary(InboxItem.get(user_id, conversation_id, consistent_read=True))
    except InboxItem.DoesNotExist:
        return None
    except GetError as exc:
        raise DependencyUnavailable("could not read the conversation; retry shortly") from exc


def messages_after(conversation_id: str, after_seq: int, page: PageRequest) -> Page[Message]:
    """The conversation's messages with ``seq > after_seq``, oldest first (consistent reads,
    so a client catching up after a push sees the message that was pushed)."""
    results = MessageItem.query(
        conversation_id,
        MessageItem.seq > after_seq,
        scan_index_forward=True,
        consistent_read=True,
        limit=page.limit,
        last_evaluated_key=page.position,
    )
    return page_of(results, _to_message, "could not list the messages; retry shortly")


def inbox_page(user_id: str, page: PageRequest) -> Page[ConversationSummary]:
    """The user's conversations, latest activity first."""
    results = InboxItem.by_activity.query(
        user_id, scan_index_forward=False, limit=page.limit, last_evaluated_key=page.position
    )
    return page_of(results, _to_summary, "could not list the conversations; retry shortly")


# Reading receipts -----------------------------------------------------------------------------


def move_read_pointer(user_id: str, conversation_id: str, seq: int) -> bool:
    """Move the member's read pointer forward to ``seq``; never back, never past the last
    message. False when it already was at or past ``seq``; ``InvalidInput`` when ``seq`` is
    past the conversation's last message."""
    try:
        InboxItem(user_id, conversation_id).update(
            actions=[InboxItem.read_seq.set(seq)],
            condition=InboxItem.user_id.exists()
            & (InboxItem.read_seq < seq)
            & (InboxItem.last_seq >= seq),
        )
        return True
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise DependencyUnavailable("could not mark it read; retry shortly") from exc
    current = summary_of(user_id, conversation_id)
    if current is not None and seq > current.last_seq:
        raise InvalidInput(f"seq: the conversation's last message is {current.last_seq}")
    return False
