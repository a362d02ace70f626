"""After a story expires: delete what TTL has not yet, and its media after retention.

The flow, every step idempotent:

1. TTL deletes an expired story (late on AWS, never on moto), or the sweeper does first
   (``sweep_expired_stories``: a few Queries of the expiry-hour index, never a Scan).
2. Either way the stories stream carries a REMOVE record; ``schedule_media_purge`` records
   the story's media to delete at ``expires_at + STORY_MEDIA_RETENTION_SECONDS``, keyed so
   a redelivered record writes the same item.
3. The sweeper (``run_due_purges``) releases each due purge's media (``media/cleanup.py``
   ``release_media``: the media item now, its original and renditions from the media
   stream's REMOVE record, as for any media), then deletes the purge record.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.core.config import get_settings
from chalicelib.core.observability import logger, metrics
from chalicelib.media import cleanup as media_cleanup
from chalicelib.stories import repository
from chalicelib.stories.domain import MediaPurge, from_epoch, hours_back


def schedule_media_purge(
    story_id: str,
    owner_id: str,
    media_id: str,
    expires_at: int,
    removed_at: int,
) -> MediaPurge:
    """Record the purge of a removed story's media.

    Due ``retention`` after the story expired, but never before the removal itself (TTL may
    remove a story days late); both inputs come from the stream record, so a redelivery
    computes the same purge.
    """
    due = max(expires_at + get_settings().story_media_retention_seconds, removed_at)
    purge = MediaPurge(media_id, owner_id, story_id, from_epoch(due))
    repository.schedule_purge(purge)
    logger.info("story media purge scheduled", story_id=story_id, media_id=media_id)
    return purge


def sweep_expired_stories(now: datetime) -> int:
    """Delete the expired stories of the last ``STORY_SWEEP_LOOKBACK_HOURS`` expiry hours
    that TTL has not removed yet; older ones are TTL's (AWS deletes within about two days)."""
    deleted = 0
    for hour in hours_back(now, get_settings().story_sweep_lookback_hours):
        for owner_id, story_id in repository.expired_story_keys(hour, now):
            if repository.delete_expired_story(owner_id, story_id, now):
                deleted += 1
    if deleted:
        logger.info("expired stories swept", stories=deleted)
        metrics.add_metric(name="StoriesSwept", unit="Count", value=deleted)
    return deleted


def run_due_purges(now: datetime) -> int:
    """Delete the media of every purge due by now in the buckets the sweep looks at."""
    # Purges fall due in the future, so look back as far as the sweep plus a day of margin
    # for a sweeper that was not running.
    lookback = get_settings().story_sweep_lookback_hours + 24
    done = 0
    for hour in hours_back(now, lookback):
        for purge in repository.due_purges(hour, now):
            purge_media(purge)
            done += 1
    if done:
        logger.info("story media purged", media=done)
        metrics.add_metric(name="StoryMediaPurged", unit="Count", value=done)
    return done


def purge_media(purge: MediaPurge) -> None:
    """Release the media, then forget the purge: in this order, so a crash between them
    leaves the record to retry from (releasing twice is releasing once)."""
    media_cleanup.release_media(purge.media_id, purge.owner_id)
    repository.purge_done(purge)


def sweep(now: datetime) -> tuple[int, int]:
    """The scheduled job: expired stories first (their REMOVE records schedule purges),
    then the purges that are due."""
    return sweep_expired_stories(now), run_due_purges(now)
