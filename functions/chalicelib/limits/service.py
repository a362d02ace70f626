"""Where a user stands against a limit, for the ``X-RateLimit-*`` headers of a route.

Charging a write and refusing it over its limit are the data layer's
(``limits/repository.py``), inside each write's own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core.clock import utc_now
from chalicelib.core.config import get_settings
from chalicelib.limits import repository
from chalicelib.limits.domain import Action, window_for


@dataclass(frozen=True)
class LimitState:
    limit: int
    remaining: int
    resets_at: int  # epoch seconds


def state(user_id: str, action: str) -> LimitState:
    """Where the user stands in the current window of ``action``'s limit: one strongly
    consistent read of the counter, so it counts the charge the request just made."""
    window = window_for(Action(action), get_settings().rate_limits, utc_now())
    count = window.limit.count
    return LimitState(count, count - repository.used(user_id, window), window.ends_at)
