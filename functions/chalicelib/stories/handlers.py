"""The stories sweeper: every minute, expired stories TTL has not removed, and due purges."""

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.core.clock import utc_now
from chalicelib.stories import cleanup

stories_jobs = Blueprint(__name__)


@stories_jobs.schedule(Rate(1, unit=Rate.MINUTES))
def sweep_stories(event: CloudWatchEvent) -> dict:
    swept, purged = cleanup.sweep(utc_now())
    return {"stories_swept": swept, "media_purged": purged}
