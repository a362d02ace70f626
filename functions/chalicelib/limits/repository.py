"""The rate-limits table: one counter item per (user, action, window), gone with TTL.

A limited write charges its counter inside its own transaction (``charge``), so the write
and its charge happen together or not at all: a refused or failed write costs nothing, and
no extra request is made. The charge is always the transaction's last item (PynamoDB sends
updates last, and the charge is added after every other update), which is how
``was_exceeded`` finds its cancellation reason.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.dynamodb import BaseMeta, FromSettings, cancellation_codes
from chalicelib.limits.domain import Window

# Counters outlive their window a little, so a late read never finds a fresh zero.
RETENTION_SECONDS = 60 * 60


class RateCounterItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("rate_limits_table")

    # "<user_id>#<action>#<window start, epoch seconds>"
    counter_key = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)  # type: ignore[assignment]  # shadows Model.count()
    expires_at = NumberAttribute()


def counter_key(user_id: str, window: Window) -> str:
    return f"{user_id}#{window.limit.action}#{window.starts_at}"


def charge(transaction: TransactWrite, user_id: str, window: Window) -> None:
    """Add one to the user's counter for the window, only while it is under the limit.

    Call it last, after every other operation of the transaction."""
    transaction.update(
        RateCounterItem(counter_key(user_id, window)),
        actions=[
            RateCounterItem.count.add(1),
            RateCounterItem.expires_at.set(window.ends_at + RETENTION_SECONDS),
        ],
        condition=RateCounterItem.count.does_not_exist()
        | (RateCounterItem.count < window.limit.count),
    )


def was_exceeded(exc: TransactWriteError) -> bool:
    """Whether the transaction was refused because its charge was over the limit."""
    codes = cancellation_codes(exc)
    return bool(codes) and codes[-1] == "ConditionalCheckFailed"


def used(user_id: str, window: Window) -> int:
    """How much of the window's limit the user has used."""
    try:
        return int(RateCounterItem.get(counter_key(user_id, window), consistent_read=True).count)
    except RateCounterItem.DoesNotExist:
        return 0
