"""EventBridge rate schedules (``@app.schedule(Rate(...))``, the only kind the app uses) firing
their handlers, on a clock that may run faster than real time. A cron schedule is refused at
start rather than fired at the wrong time.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalice.app import ScheduleExpression

from local.plumbing.lambda_semantics import AsyncInvocationQueue

_RATE = re.compile(r"rate\((\d+) (minute|hour|day)(s?)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


class UnsupportedScheduleExpression(ValueError):
    """A schedule expression the local stack can't fire (anything but ``rate(...)``)."""


def rate_period(expression: str | ScheduleExpression) -> timedelta:
    """The period of ``rate(N unit)`` (a Chalice `Rate`, or its text)."""
    text = expression if isinstance(expression, str) else expression.to_string()
    match = _RATE.fullmatch(text.strip())
    # As EventBridge: 'rate(1 minute)', 'rate(5 minutes)'; not 'rate(1 minutes)' nor 0.
    if match is None or int(match.group(1)) < 1 or (match.group(1) == "1") == bool(match[3]):
        raise UnsupportedScheduleExpression(
            f"{text!r}: the local stack fires rate(N minute|minutes|hour|hours|day|days) only"
        )
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def scheduled_event(rule_arn: str, fire_time: datetime) -> dict[str, Any]:
    """The event EventBridge sends a target when a scheduled rule fires."""
    _, _, _, region, account_id, _ = rule_arn.split(":", 5)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": fire_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


@dataclass
class ScheduledRule:
    """One ``@app.schedule`` handler: its rule, its period and its asynchronous queue."""

    period: timedelta
    rule_arn: str
    invocations: AsyncInvocationQueue
    next_fire_at: datetime | None = None


class ScheduleSource:
    """Fires every scheduled rule when its time comes. Scheduled time runs `time_scale` times
    faster than the wall clock from `prepare` on (at 60, ``rate(1 minute)`` fires every
    second), and periods count from then, as EventBridge counts them from the rule's creation.
    With `fire_on_timer` False, rules fire only through `EventPlumbing.run_schedule`."""

    name = "@schedules"  # not an identifier, so no handler of the app can share it

    def __init__(self, rules: list[ScheduledRule], time_scale: float, fire_on_timer: bool) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._rules = rules
        self._time_scale = time_scale
        self._fire_on_timer = fire_on_timer
        self._started_real = time.monotonic()
        self._started_at = datetime.now(UTC)

    @property
    def drained(self) -> bool:
        return not any(rule.invocations.pending for rule in self._rules)

    def scheduled_now(self) -> datetime:
        elapsed = (time.monotonic() - self._started_real) * self._time_scale
        return self._started_at + timedelta(seconds=elapsed)

    def seconds_until_due(self) -> float | None:
        now = self.scheduled_now()
        waits = [rule.invocations.seconds_until_due() for rule in self._rules]
        waits += [
            max(0.0, (rule.next_fire_at - now).total_seconds() / self._time_scale)
            for rule in self._rules
            if rule.next_fire_at is not None
        ]
        return min((wait for wait in waits if wait is not None), default=None)

    def prepare(self) -> None:
        self._started_real, self._started_at = time.monotonic(), datetime.now(UTC)
        for rule in self._rules:
            rule.next_fire_at = self._started_at + rule.period if self._fire_on_timer else None

    def poll(self) -> bool:
        now = self.scheduled_now()
        worked = False
        for rule in self._rules:
            if rule.next_fire_at is not None and rule.next_fire_at <= now:
                rule.invocations.submit(scheduled_event(rule.rule_arn, rule.next_fire_at))
                # Fire times missed while the process was suspended are skipped, not caught
                # up on: EventBridge doesn't replay them either.
                periods = (now - self._started_at) // rule.period + 1
                rule.next_fire_at = self._started_at + periods * rule.period
            worked = rule.invocations.invoke_due() or worked
        return worked
