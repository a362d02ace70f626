"""Direct messages: what a message and a conversation are, and how conversations are named.

A conversation is the pair of its two members. Its id is derived from the pair (a hash of
the two user ids in sorted order), so both members name it the same way whoever wrote
first, a send needs no lookup to find it, and the id says nothing about who is in it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

MAX_TEXT = 2000
MAX_CLIENT_ID = 128
CONVERSATION_ID_LENGTH = 32


def conversation_id_of(user_id: str, other_id: str) -> str:
    """The same opaque id for (a, b) and (b, a)."""
    first, second = sorted((user_id, other_id))
    digest = hashlib.sha256(f"dm\n{first}\n{second}".encode()).hexdigest()
    return digest[:CONVERSATION_ID_LENGTH]


def is_conversation_id(text: str) -> bool:
    return len(text) == CONVERSATION_ID_LENGTH and all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True)
class Message:
    message_id: str
    conversation_id: str
    sender_id: str
    text: str
    seq: int
    sent_at: datetime


@dataclass(frozen=True)
class Draft:
    """A message as its sender asked for it, before the conversation gave it a ``seq``."""

    conversation_id: str
    sender_id: str
    recipient_id: str
    client_id: str
    text: str


@dataclass(frozen=True)
class Sent:
    """The outcome of a send: the stored message, and whether this call stored it (False: a
    resend of a ``client_id`` already stored, answered with the first message)."""

    message: Message
    created: bool


@dataclass(frozen=True)
class ConversationSummary:
    """One member's view of a conversation: the latest message and how far they have read.

    ``unread_count`` is ``last_seq - read_seq``. Sending moves the sender's own read pointer
    to their message, so every message after a member's read pointer is the other member's.
    """

    conversation_id: str
    user_id: str
    other_user_id: str
    last_seq: int
    read_seq: int
    last_message: Message | None

    @property
    def unread_count(self) -> int:
        return max(0, self.last_seq - self.read_seq)


@dataclass(frozen=True)
class ReadReceipt:
    conversation_id: str
    user_id: str
    other_user_id: str
    seq: int
