"""The stories table family: stories, trays, views and the media purges that follow expiry.

- stories: one item per story, keyed (owner_id, story_id), holding what a read renders (the
  photo's rendition keys and sizes). ``expires_at`` is the TTL attribute; the sparse-free
  ``stories_by_expiry`` GSI (keys only) buckets stories by the hour they expire, so the
  sweeper Queries a few buckets and never scans.
- story_trays: one item per (viewer, story) written by the fan-out, grouped by owner in the
  range key; TTL removes it with the story. Beside them, one "seen up to" item per (viewer,
  owner) (``<owner_id>#seen``), moved forward by each view, so the one Query of a tray also
  tells which accounts the viewer has seen all of, and the tray is ordered and paged
  before any story is read.
- story_views: one item per (story, viewer): a conditional put makes a view count once.
  The ``views_by_time`` LSI lists viewers newest first.
- story_purges: an expired story's media, bucketed by the hour its deletion falls due.

Every read filters on ``expires_at`` itself: TTL deletes late (on AWS) or never (moto).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import (
    DeleteError,
    GetError,
    PutError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.clock import epoch_seconds, iso
from chalicelib.core.dynamodb import (
    BaseMeta,
    FromSettings,
    batch_get,
    batch_read,
    failed_items,
    page_of,
    transact,
)
from chalicelib.core.errors import DependencyUnavailable
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.follows import blocks_repository as blocks
from chalicelib.follows import repository as follows
from chalicelib.limits import repository as limits
from chalicelib.limits.domain import Action
from chalicelib.media import repository as media
from chalicelib.media.domain import Holder, MediaNotAttachable
from chalicelib.stories.domain import (
    MediaPurge,
    Story,
    StoryRef,
    expiry_hour,
    from_epoch,
)
from chalicelib.users import repository as users
from chalicelib.users.domain import User


class StoriesByExpiry(GlobalSecondaryIndex["StoryItem"]):
    class Meta:
        index_name = "stories_by_expiry"
        projection = KeysOnlyProjection()

    expiry_hour = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute(range_key=True)


class StoryItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("stories_table")

    owner_id = UnicodeAttribute(hash_key=True)
    story_id = UnicodeAttribute(range_key=True)  # "<ULID>_<owner_id>": sorts by time
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds: DynamoDB TTL
    expiry_hour = UnicodeAttribute()  # "2026-11-20T10": the sweeper's bucket
    media = media.AttachedMediaAttribute()

    by_expiry = StoriesByExpiry()


# The range key of a viewer's "seen up to" item for an owner: "<owner_id>#seen".
SEEN_MARK = "#seen"


class TrayEntryItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("story_trays_table")
        max_retry_attempts = 8  # the batch writer's retries of UnprocessedItems

    viewer_id = UnicodeAttribute(hash_key=True)
    # "<owner_id>#<created_at>#<story_id>"; "<owner_id>#seen" for the viewer's "seen up to"
    # item, whose story is the newest of the owner's the viewer has seen.
    tray_key = UnicodeAttribute(range_key=True)
    owner_id = UnicodeAttribute()
    story_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()


class ViewsByTime(LocalSecondaryIndex["StoryViewItem"]):
    class Meta:
        index_name = "views_by_time"
        projection = KeysOnlyProjection()

    story_id = UnicodeAttribute(hash_key=True)
    viewed_at = UnicodeAttribute(range_key=True)


class StoryViewItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("story_views_table")

    story_id = UnicodeAttribute(hash_key=True)
    viewer_id = UnicodeAttribute(range_key=True)
    viewed_at = UnicodeAttribute()
    expires_at = NumberAttribute()  # the story's expiry + view retention: DynamoDB TTL

    by_time = ViewsByTime()


class PurgeItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("story_purges_table")

    due_hour = UnicodeAttribute(hash_key=True)
    purge_key = UnicodeAttribute(range_key=True)  # "<due_at ISO>#<media_id>"
    media_id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    story_id = UnicodeAttribute()
    due_at = NumberAttribute()


# Mapping ----------------------------------------------------------------------------------


def _to_story(item: StoryItem) -> Story:
    return Story(
        story_id=item.story_id,
        owner_id=item.owner_id,
        created_at=datetime.fromisoformat(item.created_at),
        expires_at=from_epoch(int(item.expires_at)),
        media=media.attached_from_attribute(item.media),
    )


def _to_item(story: Story) -> StoryItem:
    return StoryItem(
        story.owner_id,
        story.story_id,
        created_at=iso(story.created_at),
        expires_at=epoch_seconds(story.expires_at),
        expiry_hour=expiry_hour(story.expires_at),
        media=media.attached_attribute(story.media),
    )


def _now(now: datetime) -> float:
    """The filter value: a story expiring at E is shown while now < E, to the millisecond."""
    return round(now.timestamp(), 3)


# Stories ----------------------------------------------------------------------------------


def create_story(story: Story, now: datetime) -> None:
    """Store the story, attach its media and charge the owner's daily story limit, all or
    nothing (one TransactWriteItems).

    Raises ``MediaNotAttachable`` when the media's condition failed, ``RateLimited`` when the
    owner is at their limit.
    """

    def build(transaction: TransactWrite) -> None:
        transaction.save(_to_item(story), condition=StoryItem.story_id.does_not_exist())
        media.attach(
            transaction, story.media.media_id, story.owner_id, Holder.story(story.story_id), now
        )
        limits.charge(transaction, story.owner_id, Action.STORIES, now)  # last

    try:
        transact(build)
    except TransactWriteError as exc:
        if "media" in failed_items(exc, ["story", "media", "limit"]):
            raise MediaNotAttachable({story.media.media_id}) from exc
        limits.refuse_if_exceeded(exc, Action.STORIES, now)
        raise DependencyUnavailable("could not create the story; retry shortly") from exc


def get_story(owner_id: str, story_id: str, now: datetime) -> Story | None:
    """The story, unless it never existed or has expired (deleted by TTL or not)."""
    try:
        story = _to_story(StoryItem.get(owner_id, story_id, consistent_read=True))
    except StoryItem.DoesNotExist:
        return None
    except GetError as exc:
        raise DependencyUnavailable("could not read the story; retry shortly") from exc
    return story if story.is_active(now) else None


def active_stories(owner_id: str, now: datetime) -> list[Story]:
    """The owner's unexpired stories, oldest first: one Query (expired ones filtered out)."""
    try:
        return [
            _to_story(item)
            for item in StoryItem.query(owner_id, filter_condition=StoryItem.expires_at > _now(now))
        ]
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read the stories; retry shortly") from exc


def story_ref(story: Story) -> StoryRef:
    return StoryRef(
        story.owner_id, iso(story.created_at), story.story_id, epoch_seconds(story.expires_at)
    )


# Trays ------------------------------------------------------------------------------------


def _tray_item(viewer_id: str, ref: StoryRef) -> TrayEntryItem:
    return TrayEntryItem(
        viewer_id,
        ref.tray_key,
        owner_id=ref.owner_id,
        story_id=ref.story_id,
        created_at=ref.created_at,
        expires_at=ref.expires_at,
    )


def add_to_trays(viewer_ids: Iterable[str], ref: StoryRef) -> int:
    """Write one story into each viewer's tray (25 per BatchWriteItem); rewriting is harmless."""
    written = 0
    try:
        with TrayEntryItem.batch_write() as batch:
            for viewer_id in viewer_ids:
                batch.save(_tray_item(viewer_id, ref))
                written += 1
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not write tray entries") from exc
    return written


def add_refs_to_tray(viewer_id: str, refs: Iterable[StoryRef]) -> int:
    """Write several stories into one viewer's tray (a new follow's backfill)."""
    written = 0
    try:
        with TrayEntryItem.batch_write() as batch:
            for ref in refs:
                batch.save(_tray_item(viewer_id, ref))
                written += 1
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not write tray entries") from exc
    return written


def tray_entries(viewer_id: str, now: datetime) -> tuple[list[StoryRef], dict[str, str]]:
    """The viewer's unexpired tray entries, and for each owner the newest of its stories the
    viewer has seen: one Query (one more per further MB of them)."""
    refs: list[StoryRef] = []
    seen_up_to: dict[str, str] = {}
    try:
        for item in TrayEntryItem.query(
            viewer_id, filter_condition=TrayEntryItem.expires_at > _now(now)
        ):
            if item.tray_key.endswith(SEEN_MARK):
                seen_up_to[item.owner_id] = item.story_id
            else:
                refs.append(
                    StoryRef(item.owner_id, item.created_at, item.story_id, int(item.expires_at))
                )
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read the tray; retry shortly") from exc
    return refs, seen_up_to


def mark_seen(viewer_id: str, story: Story) -> None:
    """Move the viewer's "seen up to" item for the story's owner forward to this story (never
    back: viewing an older story changes nothing). It expires with the story: by then every
    older story of the owner has expired too. Idempotent."""
    item = TrayEntryItem(viewer_id, f"{story.owner_id}{SEEN_MARK}")
    try:
        item.update(
            actions=[
                TrayEntryItem.owner_id.set(story.owner_id),
                TrayEntryItem.story_id.set(story.story_id),
                TrayEntryItem.created_at.set(iso(story.created_at)),
                TrayEntryItem.expires_at.set(epoch_seconds(story.expires_at)),
            ],
            condition=TrayEntryItem.story_id.does_not_exist()
            | (TrayEntryItem.story_id < story.story_id),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise DependencyUnavailable("could not record the view; retry shortly") from exc


def read_for_tray(
    viewer_id: str,
    refs: Sequence[StoryRef],
    loaded: Sequence[Story],
    owner_ids: Sequence[str],
) -> tuple[dict[str, Story], dict[str, User], set[str], set[str], set[str]]:
    """What a tray needs beyond its entries, in one multi-table BatchGetItem: the stories
    named by ``refs`` (their media), the owners' profiles, the viewer's follow edges to
    them, their blocks of the viewer and the viewer's views of every story (``refs`` and
    the already ``loaded`` ones).

    Returns stories by id (``loaded`` included), profiles by user id, the ids of the
    stories the viewer has seen, the owners the viewer follows and those who blocked them.
    """
    stories_read = batch_read(StoryItem, [(ref.owner_id, ref.story_id) for ref in refs])
    profiles_read = users.user_reads(owner_ids)
    story_ids = [ref.story_id for ref in refs] + [story.story_id for story in loaded]
    views_read = batch_read(
        StoryViewItem, [(story_id, viewer_id) for story_id in story_ids], attributes=["story_id"]
    )
    reads = [stories_read, profiles_read, views_read]
    others = [owner_id for owner_id in owner_ids if owner_id != viewer_id]
    edges_read = follows.edge_reads(viewer_id, others) if others else None
    if edges_read is not None:
        reads.append(edges_read)
        reads.append(blocks.block_reads((owner_id, viewer_id) for owner_id in others))
    found = batch_get([read for read in reads if read.keys])
    stories = {story.story_id: story for story in loaded}
    for raw in found.get(stories_read.table_name, []):
        story = _to_story(StoryItem.from_raw_data(raw))
        stories[story.story_id] = story
    profiles = {
        user.user_id: user
        for user in (users.user_from_raw(raw) for raw in found.get(profiles_read.table_name, []))
    }
    seen = {
        StoryViewItem.from_raw_data(raw).story_id for raw in found.get(views_read.table_name, [])
    }
    followed = (
        {follows.followee_from_raw(raw) for raw in found.get(edges_read.table_name, [])}
        if edges_read is not None
        else set()
    )
    blockers = {blocker_id for blocker_id, _ in blocks.blocks_found(found)}
    return stories, profiles, seen, followed, blockers


def seen_by(viewer_id: str, story_ids: Sequence[str]) -> set[str]:
    """Which of these stories the viewer has seen: one BatchGetItem (keys only)."""
    if not story_ids:
        return set()
    read = batch_read(
        StoryViewItem, [(story_id, viewer_id) for story_id in story_ids], attributes=["story_id"]
    )
    return {StoryViewItem.from_raw_data(raw).story_id for raw in batch_get([read])[read.table_name]}


# Views ------------------------------------------------------------------------------------


def record_view(story_id: str, viewer_id: str, at: datetime, expires_at: int) -> bool:
    """Store the view once; False when this viewer had already seen the story."""
    item = StoryViewItem(story_id, viewer_id, viewed_at=iso(at), expires_at=expires_at)
    try:
        item.save(condition=StoryViewItem.story_id.does_not_exist())
        return True
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise DependencyUnavailable("could not record the view; retry shortly") from exc


def viewers_page(story_id: str, page: PageRequest) -> Page[tuple[str, str]]:
    """(viewer id, viewed_at) of a story's viewers, newest first, from the keys-only LSI."""
    results = StoryViewItem.by_time.query(
        story_id, scan_index_forward=False, limit=page.limit, last_evaluated_key=page.position
    )
    return page_of(
        results,
        lambda item: (item.viewer_id, item.viewed_at),
        "could not list the viewers; retry shortly",
    )


# Clean-up ---------------------------------------------------------------------------------


def expired_story_keys(hour: str, now: datetime) -> list[tuple[str, str]]:
    """(owner_id, story_id) of the stories in one expiry-hour bucket that have expired."""
    try:
        return [
            (item.owner_id, item.story_id)
            for item in StoryItem.by_expiry.query(hour, StoryItem.expires_at <= _now(now))
        ]
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not list expired stories") from exc


def delete_expired_story(owner_id: str, story_id: str, now: datetime) -> bool:
    """Delete a story TTL has not removed yet; False if it was gone (or not expired)."""
    try:
        StoryItem(owner_id, story_id).delete(
            condition=StoryItem.story_id.exists() & (StoryItem.expires_at <= _now(now))
        )
        return True
    except DeleteError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise DependencyUnavailable("could not delete an expired story") from exc


def _purge_key(purge: MediaPurge) -> str:
    return f"{iso(purge.due_at)}#{purge.media_id}"


def schedule_purge(purge: MediaPurge) -> None:
    """Record a purge; the key is derived from the purge itself, so recording twice is one."""
    try:
        PurgeItem(
            expiry_hour(purge.due_at),
            _purge_key(purge),
            media_id=purge.media_id,
            owner_id=purge.owner_id,
            story_id=purge.story_id,
            due_at=epoch_seconds(purge.due_at),
        ).save()
    except PutError as exc:
        raise DependencyUnavailable("could not schedule the media purge") from exc


def due_purges(hour: str, now: datetime) -> list[MediaPurge]:
    """The purges of one due-hour bucket that are due by ``now``."""
    try:
        return [
            MediaPurge(
                media_id=item.media_id,
                owner_id=item.owner_id,
                story_id=item.story_id,
                due_at=from_epoch(int(item.due_at)),
            )
            for item in PurgeItem.query(hour, PurgeItem.purge_key <= f"{iso(now)}#\uffff")
        ]
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not list due media purges") from exc


def purge_done(purge: MediaPurge) -> None:
    try:
        PurgeItem(expiry_hour(purge.due_at), _purge_key(purge)).delete()
    except DeleteError as exc:
        raise DependencyUnavailable("could not record the purge as done") from exc
