"""EventBridge scheduled rules firing a handler, on a clock that may run faster than real time."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from local.plumbing.lambda_semantics import (
    AsyncInvocationQueue,
    Clock,
    LambdaFunction,
)
from local.plumbing.schedules import CronSchedule, RateSchedule


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
    """One ``@app.schedule`` handler: its rule, its schedule and its asynchronous queue."""

    function: LambdaFunction
    schedule: RateSchedule | CronSchedule
    rule_arn: str
    invocations: AsyncInvocationQueue
    next_fire_at: datetime | None = None


class ScheduleSource:
    """Fires every scheduled rule of the app when its time comes.

    Time runs `time_scale` times faster than the wall clock from the moment the source is
    prepared: with 60, ``rate(1 minute)`` fires every second and ``cron(0 * * * ? *)`` every
    minute. Fire times are computed in UTC, as EventBridge computes them.

    Parameters
    ----------
    rules:
        The app's scheduled rules.
    time_scale:
        Scheduled seconds per real second; must be positive.
    fire_on_timer:
        False leaves the timers off, so schedules run only through `EventPlumbing.run_schedule`.
    """

    # Not an identifier, so no handler of the app can share it.
    name = "@schedules"

    def __init__(
        self,
        rules: list[ScheduledRule],
        *,
        time_scale: float = 1.0,
        fire_on_timer: bool = True,
        clock: Clock = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._rules = rules
        self._time_scale = time_scale
        self._fire_on_timer = fire_on_timer
        self._clock = clock
        self._wall_clock = wall_clock
        self._started_real = clock()
        self._started_at = wall_clock()

    @property
    def drained(self) -> bool:
        return not any(rule.invocations.pending for rule in self._rules)

    def request_refresh(self) -> None:
        pass

    def scheduled_now(self) -> datetime:
        elapsed = (self._clock() - self._started_real) * self._time_scale
        return self._started_at + timedelta(seconds=elapsed)

    def seconds_until_due(self) -> float | None:
        waits = [
            wait
            for wait in (rule.invocations.seconds_until_due() for rule in self._rules)
            if wait is not None
        ]
        now = self.scheduled_now()
        waits += [
            max(0.0, (rule.next_fire_at - now).total_seconds() / self._time_scale)
            for rule in self._rules
            if rule.next_fire_at is not None
        ]
        return min(waits, default=None)

    def prepare(self) -> None:
        self._started_real = self._clock()
        self._started_at = self._wall_clock()
        if self._fire_on_timer:
            for rule in self._rules:
                rule.next_fire_at = rule.schedule.next_fire_after(
                    self._started_at, self._started_at
                )

    def poll(self) -> bool:
        now = self.scheduled_now()
        for rule in self._rules:
            if rule.next_fire_at is not None and rule.next_fire_at <= now:
                rule.invocations.submit(scheduled_event(rule.rule_arn, rule.next_fire_at))
                # Fire times missed while the process was suspended are skipped, not caught
                # up on: EventBridge doesn't replay them either.
                rule.next_fire_at = rule.schedule.next_fire_after(now, self._started_at)
        worked = False
        for rule in self._rules:
            worked = rule.invocations.invoke_due() or worked
        return worked
