"""The feeds table: one item per (reader, post), newest first, expiring by TTL.

The ``feed_by_author`` local index finds one author's entries in one reader's feed, so an
unfollow removes them without scanning the feed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.clock import epoch_seconds
from chalicelib.core.dynamodb import BaseMeta, FromSettings
from chalicelib.core.errors import DependencyUnavailable
from chalicelib.posts.domain import PostRef


class FeedByAuthor(LocalSecondaryIndex["FeedEntryItem"]):
    class Meta:
        index_name = "feed_by_author"
        projection = KeysOnlyProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    author_entry_key = UnicodeAttribute(range_key=True)


class FeedEntryItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("feeds_table")
        # PynamoDB's batch writer retries UnprocessedItems with backoff this many times.
        max_retry_attempts = 8

    owner_id = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)  # "<created_at>#<post_id>"
    author_entry_key = UnicodeAttribute()  # "<author_id>#<created_at>#<post_id>"
    post_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()

    by_author = FeedByAuthor()


def _item(owner_id: str, post: PostRef, expires_at: int) -> FeedEntryItem:
    return FeedEntryItem(
        owner_id,
        post.entry_key,
        author_entry_key=f"{post.author_id}#{post.entry_key}",
        post_id=post.post_id,
        author_id=post.author_id,
        created_at=post.created_at,
        expires_at=expires_at,
    )


def _expiry(post: PostRef, ttl_days: int) -> int:
    created = datetime.fromisoformat(post.created_at.replace("Z", "+00:00"))
    return epoch_seconds(created + timedelta(days=ttl_days))


def add_to_feeds(owner_ids: Iterable[str], post: PostRef, ttl_days: int) -> int:
    """Write the post into each owner's feed: 25 per BatchWriteItem, unprocessed items
    retried with backoff. Rewriting an entry is harmless, so redelivery is too."""
    expires_at = _expiry(post, ttl_days)
    written = 0
    try:
        with FeedEntryItem.batch_write() as batch:
            for owner_id in owner_ids:
                batch.save(_item(owner_id, post, expires_at))
                written += 1
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not write feed entries") from exc
    return written


def add_posts_to_feed(owner_id: str, refs: Iterable[PostRef], ttl_days: int) -> int:
    """Write many posts into one reader's feed (a follow's backfill)."""
    written = 0
    try:
        with FeedEntryItem.batch_write() as batch:
            for post in refs:
                batch.save(_item(owner_id, post, _expiry(post, ttl_days)))
                written += 1
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not write feed entries") from exc
    return written


def remove_from_feeds(owner_ids: Iterable[str], post: PostRef) -> int:
    removed = 0
    try:
        with FeedEntryItem.batch_write() as batch:
            for owner_id in owner_ids:
                batch.delete(FeedEntryItem(owner_id, post.entry_key))
                removed += 1
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not delete feed entries") from exc
    return removed


def remove_author_from_feed(owner_id: str, author_id: str) -> int:
    """Delete every entry of one author from one reader's feed (after an unfollow)."""
    try:
        keys = [
            item.author_entry_key.split("#", 1)[1]
            for item in FeedEntryItem.by_author.query(
                owner_id, FeedEntryItem.author_entry_key.startswith(f"{author_id}#")
            )
        ]
        with FeedEntryItem.batch_write() as batch:
            for entry_key in keys:
                batch.delete(FeedEntryItem(owner_id, entry_key))
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not clean the feed") from exc
    return len(keys)


def newest_entries(owner_id: str, before: str | None, limit: int) -> list[PostRef]:
    """Up to ``limit`` entries older than ``before`` (an entry key), newest first: one Query."""
    condition = FeedEntryItem.entry_key < before if before else None
    try:
        return [
            PostRef(item.created_at, item.post_id, item.author_id)
            for item in FeedEntryItem.query(
                owner_id, condition, scan_index_forward=False, limit=limit
            )
        ]
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read the feed; retry shortly") from exc
