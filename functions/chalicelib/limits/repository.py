"""The rate-limits table: one counter item per (user, action, window), gone with TTL.

A limited write charges its counter inside its own transaction (``charge``), so the write
and its charge happen together or not at all: a refused or failed write costs nothing, and
no extra request is made. The charge is always the transaction's last item (PynamoDB sends
updates last, and the charge is added after every other update), which is how
``was_exceeded`` finds its cancellation reason.

The repositories of limited writes call ``charge`` while building their transaction and
``refuse_if_exceeded`` when it is cancelled; the limit comes from the settings
(``RATE_LIMITS``), its window from ``limits.domain``.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.config import get_settings
from chalicelib.core.dynamodb import BaseMeta, FromSettings, cancellation_codes
from chalicelib.limits.domain import Action, Window, refusal, window_for

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


def charge(transaction: TransactWrite, user_id: str, action: Action, now: datetime) -> None:
    """Count this write against the user's limit of ``action``: add one to the counter of
    the window ``now`` falls in, only while it is under the limit.

    Call it last, after every other operation of the transaction."""
    window = _window(action, now)
    transaction.update(
        RateCounterItem(counter_key(user_id, window)),
        actions=[
            RateCounterItem.count.add(1),
            RateCounterItem.expires_at.set(window.ends_at + RETENTION_SECONDS),
        ],
        condition=RateCounterItem.count.does_not_exist()
        | (RateCounterItem.count < window.limit.count),
    )


def refuse_if_exceeded(exc: TransactWriteError, action: Action, now: datetime) -> None:
    """Raise ``RateLimited`` (429 with Retry-After) when the limit refused the transaction
    (``charge`` added to it, with the same ``action`` and ``now``); otherwise return, for
    the caller to say what else failed."""
    if was_exceeded(exc):
        raise refusal(_window(action, now), now) from exc


def was_exceeded(exc: TransactWriteError) -> bool:
    """Whether the transaction was refused because its charge was over the limit."""
    codes = cancellation_codes(exc)
    return bool(codes) and codes[-1] == "ConditionalCheckFailed"


def _window(action: Action, now: datetime) -> Window:
    return window_for(action, get_settings().rate_limits, now)


def used(user_id: str, window: Window) -> int:
    """How much of the window's limit the user has used."""
    try:
        return int(RateCounterItem.get(counter_key(user_id, window), consistent_read=True).count)
    except RateCounterItem.DoesNotExist:
        return 0
