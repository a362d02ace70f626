"""EventBridge schedule expressions, parsed as EventBridge parses them, and the times they fire.

Supported: ``rate(N minute|minutes|hour|hours|day|days)`` and the six-field
``cron(minutes hours day-of-month month day-of-week year)`` with ``*``, ``?``, numbers,
month and weekday names, lists, ranges and ``/`` steps. ``L``, ``W`` and ``#`` are rejected
with `UnsupportedScheduleExpression` rather than fired at the wrong time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from chalice.app import ScheduleExpression


class UnsupportedScheduleExpression(ValueError):
    """A schedule expression EventBridge would reject, or that the local stack can't fire."""


class Schedule(Protocol):
    """When a scheduled rule fires."""

    expression: str

    def next_fire_after(self, moment: datetime, anchor: datetime) -> datetime | None:
        """The first fire time strictly after `moment`, or None if the schedule never fires again.

        Parameters
        ----------
        moment:
            A timezone-aware time; fire times are computed in UTC, as EventBridge does.
        anchor:
            When the rule was created: rate schedules count their periods from it.
        """
        ...


_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class RateSchedule:
    """Fires every `period`, counted from the rule's creation."""

    expression: str
    period: timedelta

    def next_fire_after(self, moment: datetime, anchor: datetime) -> datetime | None:
        if moment < anchor:
            return anchor + self.period
        periods_elapsed = (moment - anchor) // self.period
        return anchor + (periods_elapsed + 1) * self.period


@dataclass(frozen=True)
class _CronField:
    name: str
    minimum: int
    maximum: int
    names: dict[str, int]


_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
        start=1,
    )
}
# EventBridge numbers weekdays from Sunday = 1.
_WEEKDAY_NAMES = {
    name: number
    for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)
}
_CRON_FIELDS = (
    _CronField("minutes", 0, 59, {}),
    _CronField("hours", 0, 23, {}),
    _CronField("day-of-month", 1, 31, {}),
    _CronField("month", 1, 12, _MONTH_NAMES),
    _CronField("day-of-week", 1, 7, _WEEKDAY_NAMES),
    _CronField("year", 1970, 2199, {}),
)
_CRON = re.compile(r"^cron\((.*)\)$")


@dataclass(frozen=True)
class CronSchedule:
    """Fires at the UTC minutes that match every field; a `?` day field matches any day."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None
    months: frozenset[int]
    days_of_week: frozenset[int] | None
    years: frozenset[int]

    def next_fire_after(self, moment: datetime, anchor: datetime) -> datetime | None:
        earliest = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = earliest.date()
        last_year = max(self.years)
        while day.year <= last_year:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
                continue
            if day.month not in self.months:
                day = _first_of_next_month(day)
                continue
            if self._matches_day(day):
                fire_time = self._first_time_on(day, earliest)
                if fire_time is not None:
                    return fire_time
            day += timedelta(days=1)
        return None

    def _matches_day(self, day: date) -> bool:
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        assert self.days_of_week is not None
        return _eventbridge_weekday(day) in self.days_of_week

    def _first_time_on(self, day: date, earliest: datetime) -> datetime | None:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                if candidate >= earliest:
                    return candidate
        return None


def _eventbridge_weekday(day: date) -> int:
    # Python counts Monday = 0; EventBridge counts Sunday = 1.
    return (day.weekday() + 1) % 7 + 1


def _first_of_next_month(day: date) -> date:
    if day.month == 12:
        return date(day.year + 1, 1, 1)
    return date(day.year, day.month + 1, 1)


def parse_schedule_expression(expression: str | ScheduleExpression) -> RateSchedule | CronSchedule:
    """Parse a Chalice schedule (`Rate`, `Cron` or their string form) as EventBridge does.

    Raises
    ------
    UnsupportedScheduleExpression
        For expressions EventBridge rejects (``rate(1 minutes)``, both day fields set) and for
        the cron features the local stack does not fire (``L``, ``W``, ``#``).
    """
    text = expression if isinstance(expression, str) else expression.to_string()
    text = text.strip()
    if text.startswith("rate("):
        return _parse_rate(text)
    if text.startswith("cron("):
        return _parse_cron(text)
    raise UnsupportedScheduleExpression(
        f"schedule expression {text!r} is neither rate(...) nor cron(...)"
    )


def _parse_rate(text: str) -> RateSchedule:
    match = _RATE.match(text)
    if match is None:
        raise UnsupportedScheduleExpression(
            f"rate expression {text!r} is not 'rate(<positive integer> <unit>)'"
        )
    value, unit = int(match.group(1)), match.group(2)
    singular = unit.removesuffix("s")
    if singular not in _RATE_UNITS:
        raise UnsupportedScheduleExpression(
            f"rate expression {text!r} has unit {unit!r}; use minute(s), hour(s) or day(s)"
        )
    if value < 1:
        raise UnsupportedScheduleExpression(f"rate expression {text!r} must be at least 1")
    # EventBridge rejects 'rate(1 minutes)' and 'rate(5 minute)'; so does the local stack,
    # so the mistake shows up before a deploy does.
    expected_unit = singular if value == 1 else singular + "s"
    if unit != expected_unit:
        raise UnsupportedScheduleExpression(
            f"rate expression {text!r} must say {expected_unit!r} for a value of {value}"
        )
    return RateSchedule(text, timedelta(seconds=value * _RATE_UNITS[singular]))


def _parse_cron(text: str) -> CronSchedule:
    match = _CRON.match(text)
    fields = match.group(1).split() if match else []
    if len(fields) != len(_CRON_FIELDS):
        raise UnsupportedScheduleExpression(
            f"cron expression {text!r} needs six fields: "
            "minutes hours day-of-month month day-of-week year"
        )
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise UnsupportedScheduleExpression(
            f"cron expression {text!r} must have '?' in exactly one of day-of-month and day-of-week"
        )
    values = [
        _parse_cron_field(text, raw, field) for raw, field in zip(fields, _CRON_FIELDS, strict=True)
    ]
    return CronSchedule(
        expression=text,
        minutes=values[0],
        hours=values[1],
        days_of_month=None if day_of_month == "?" else values[2],
        months=values[3],
        days_of_week=None if day_of_week == "?" else values[4],
        years=values[5],
    )


def _parse_cron_field(expression: str, raw: str, field: _CronField) -> frozenset[int]:
    everything = frozenset(range(field.minimum, field.maximum + 1))
    if raw == "?":
        if field.name not in ("day-of-month", "day-of-week"):
            raise UnsupportedScheduleExpression(
                f"cron expression {expression!r}: '?' is only allowed in the day fields"
            )
        return everything
    without_names = raw.upper()
    for name in field.names:
        without_names = without_names.replace(name, "")
    unsupported = {"L", "W", "#"} & set(without_names)
    if unsupported:
        raise UnsupportedScheduleExpression(
            f"cron expression {expression!r}: {''.join(sorted(unsupported))!r} in the "
            f"{field.name} field is not supported by the local stack"
        )
    values: set[int] = set()
    for part in raw.split(","):
        values |= _parse_cron_part(expression, part, field)
    return frozenset(values)


def _parse_cron_part(expression: str, part: str, field: _CronField) -> set[int]:
    range_text, _, step_text = part.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) < 1:
            raise UnsupportedScheduleExpression(
                f"cron expression {expression!r}: bad step {part!r} in the {field.name} field"
            )
        step = int(step_text)
    if range_text == "*":
        start, end = field.minimum, field.maximum
    elif "-" in range_text:
        low, _, high = range_text.partition("-")
        start, end = _cron_value(expression, low, field), _cron_value(expression, high, field)
        if start > end:
            raise UnsupportedScheduleExpression(
                f"cron expression {expression!r}: range {range_text!r} in the {field.name} "
                "field runs backwards"
            )
    else:
        start = _cron_value(expression, range_text, field)
        # 'a/step' runs from a to the end of the field, as in EventBridge.
        end = field.maximum if step_text else start
    return set(range(start, end + 1, step))


def _cron_value(expression: str, text: str, field: _CronField) -> int:
    upper = text.upper()
    if upper in field.names:
        return field.names[upper]
    if not text.isdigit():
        raise UnsupportedScheduleExpression(
            f"cron expression {expression!r}: {text!r} is not a value of the {field.name} field"
        )
    value = int(text)
    if not field.minimum <= value <= field.maximum:
        raise UnsupportedScheduleExpression(
            f"cron expression {expression!r}: {value} is outside {field.minimum}-"
            f"{field.maximum} in the {field.name} field"
        )
    return value
