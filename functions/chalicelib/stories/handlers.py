"""The stories sweeper: every minute (``app.py`` schedules it), expired stories TTL has not
removed, and due purges."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import CloudWatchEvent

from chalicelib.core.clock import utc_now
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.stories import cleanup
else:
    cleanup = lazy_module("chalicelib.stories.cleanup")


def sweep_stories(event: CloudWatchEvent) -> dict:
    swept, purged = cleanup.sweep(utc_now())
    return {"stories_swept": swept, "media_purged": purged}
