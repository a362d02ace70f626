"""Time, as the contract writes it: ISO-8601 UTC with milliseconds and a Z."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch_seconds(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
