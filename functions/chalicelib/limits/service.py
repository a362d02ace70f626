"""Charging a write against its per-user limit, and saying when to retry.

Features call ``charge`` while building a write's transaction and ``refuse_if_exceeded``
when the transaction is cancelled; the limit itself comes from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from chalicelib.core.clock import utc_now
from chalicelib.core.config import get_settings
from chalicelib.core.errors import RateLimited
from chalicelib.limits import repository
from chalicelib.limits.domain import Action, Limit, limits_from

if TYPE_CHECKING:  # the transaction itself stays in the data layers
    from pynamodb.exceptions import TransactWriteError
    from pynamodb.transactions import TransactWrite


@cache
def _limits(spec: str) -> dict[Action, Limit]:
    return limits_from(spec)


def limit_for(action: Action) -> Limit:
    return _limits(get_settings().rate_limits)[action]


def charge(transaction: TransactWrite, user_id: str, action: Action, now: datetime) -> None:
    """Count this write against the user's limit; add it last to the transaction."""
    repository.charge(transaction, user_id, limit_for(action).window_of(now))


def refuse_if_exceeded(exc: TransactWriteError, action: Action, now: datetime) -> None:
    """Raise ``RateLimited`` (429 with Retry-After) when the limit refused the transaction."""
    if repository.was_exceeded(exc):
        limit = limit_for(action)
        window = limit.window_of(now)
        raise RateLimited(
            f"you can do this {limit.count} times per {_spell(limit.window_seconds)}; "
            "try again later",
            retry_after_seconds=window.seconds_left(now),
            limit=limit.count,
            resets_at=window.ends_at,
        )


@dataclass(frozen=True)
class LimitState:
    limit: int
    remaining: int
    resets_at: int  # epoch seconds


def state(user_id: str, action: str) -> LimitState:
    """Where the user stands in the current window of ``action``'s limit: one strongly
    consistent read of the counter, so it counts the charge the request just made."""
    limit = limit_for(Action(action))
    window = limit.window_of(utc_now())
    return LimitState(limit.count, limit.count - repository.used(user_id, window), window.ends_at)


def _spell(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"
