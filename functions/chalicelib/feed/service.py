"""Reading the home feed: pushed entries and pulled celebrity posts, merged by time."""

from __future__ import annotations

import heapq
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from chalicelib.core.config import get_settings
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.feed import repository as feeds
from chalicelib.follows import repository as follows
from chalicelib.posts import repository as posts
from chalicelib.posts import service as post_views
from chalicelib.posts.domain import PostRef, PostView


def read_feed(viewer_id: str, page: PageRequest) -> Page[PostView]:
    """One page, newest first: the viewer's feed entries (one Query), the celebrities they
    follow (one Query) and each one's recent posts (one Query each, bounded), k-way merged,
    then hydrated in one BatchGetItem, which also drops authors the viewer has unfollowed
    and whose entries the stream has not removed yet.

    The cursor is the last post's (time, id): every source is ordered by it, so one position
    pages all of them, and posts arriving at the head never shift a later page.
    """
    before = page.position.get("before") if page.position else None
    pushed = feeds.newest_entries(viewer_id, before, page.limit)
    celebrities = follows.celebrities_followed_by(viewer_id, get_settings().max_celebrities_merged)
    pulled = list(
        _pool().map(
            lambda celebrity: posts.post_refs_by_author(celebrity, before=before, limit=page.limit),
            celebrities,
        )
    )
    merged = _newest_first_unique([pushed, *pulled], page.limit)
    views = post_views.hydrate(viewer_id, [ref.post_id for ref in merged], followed_only=True)
    position = {"before": merged[-1].entry_key} if len(merged) == page.limit else None
    return Page(views, position)


@cache
def _pool() -> ThreadPoolExecutor:
    """Celebrity Queries run side by side: a page waits for the slowest, not for their sum."""
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="feed-pull")


def _newest_first_unique(sources: list[list[PostRef]], limit: int) -> list[PostRef]:
    """Merge newest-first lists into one, each post once (a post can be both pushed, from
    before its author became a celebrity, and pulled)."""
    unique: list[PostRef] = []
    seen: set[str] = set()
    for ref in heapq.merge(*sources, key=lambda ref: ref.entry_key, reverse=True):
        if ref.post_id not in seen:
            seen.add(ref.post_id)
            unique.append(ref)
            if len(unique) == limit:
                break
    return unique
