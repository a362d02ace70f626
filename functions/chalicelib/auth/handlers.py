"""The clean-up of sign-ups never confirmed: every hour (``app.py`` schedules it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import CloudWatchEvent

from chalicelib.core.clock import utc_now
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.auth import cleanup
else:
    cleanup = lazy_module("chalicelib.auth.cleanup")


def sweep_unconfirmed_signups(event: CloudWatchEvent) -> dict:
    return {"accounts_removed": cleanup.sweep(utc_now())}
