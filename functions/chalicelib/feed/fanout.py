"""Fan-out on write of posts, and the follow-graph changes that move posts in and out of
feeds. Pages of followers are the fan-out package's (``fanout/``); what a page writes is here.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.config import get_settings
from chalicelib.core.errors import NotFound
from chalicelib.core.observability import logger
from chalicelib.fanout.domain import FanoutJob, is_celebrity
from chalicelib.fanout.queue import FanoutQueue
from chalicelib.feed import repository as feeds
from chalicelib.feed.domain import JobKind
from chalicelib.follows import repository as follows
from chalicelib.posts import repository as posts
from chalicelib.posts.domain import PostRef
from chalicelib.users import repository as users
from chalicelib.users.domain import User


def _author(author_id: str) -> User | None:
    try:
        return users.get_user(author_id)
    except NotFound:
        return None


def _payload(post: PostRef) -> dict[str, Any]:
    # The keys and their order are the queue's wire format: jobs in flight stay readable.
    return {
        "post": {
            "post_id": post.post_id,
            "author_id": post.author_id,
            "created_at": post.created_at,
        }
    }


def _post_of(job: FanoutJob) -> PostRef | None:
    post = job.payload.get("post")
    return PostRef(post["created_at"], post["post_id"], post["author_id"]) if post else None


def on_post_created(post: PostRef, queue: FanoutQueue) -> None:
    author = _author(post.author_id)
    if author is None:
        return
    if is_celebrity(author):
        # Followers pull it; only the author's own feed gets an entry.
        feeds.add_to_feeds([author.user_id], post, get_settings().feed_entry_ttl_days)
        return
    queue.enqueue(FanoutJob(JobKind.ADD, author.user_id, _payload(post)))


def on_post_deleted(post: PostRef, queue: FanoutQueue) -> None:
    author = _author(post.author_id)
    if author is None or is_celebrity(author):
        # Nothing (or only entries from before it became one) to find: reads skip posts
        # that no longer exist, so removing the author's own entry is enough.
        feeds.remove_from_feeds([post.author_id], post)
        return
    queue.enqueue(FanoutJob(JobKind.REMOVE, post.author_id, _payload(post)))


def add_to_feeds(job: FanoutJob, readers: list[str]) -> None:
    """An ``ADD`` page: the post into each reader's feed."""
    post = _post_of(job)
    if post is not None:
        feeds.add_to_feeds(readers, post, get_settings().feed_entry_ttl_days)


def remove_from_feeds(job: FanoutJob, readers: list[str]) -> None:
    """A ``REMOVE`` page: the deleted post out of each reader's feed."""
    post = _post_of(job)
    if post is not None:
        feeds.remove_from_feeds(readers, post)


def tag_celebrity_edges(job: FanoutJob, followers: list[str]) -> None:
    """A ``TAG`` page: each follower's edge to the new celebrity into the celebrities index."""
    for follower_id in followers:
        follows.tag_celebrity_edge(follower_id, job.author_id)


def on_followed(follower_id: str, followee_id: str) -> None:
    """A new follow: index it if the followee is a celebrity, else backfill recent posts."""
    followee = _author(followee_id)
    if followee is None:
        return
    if is_celebrity(followee):
        follows.tag_celebrity_edge(follower_id, followee_id)
        return
    settings = get_settings()
    recent = posts.post_refs_by_author(
        followee_id, before=None, limit=settings.follow_backfill_posts
    )
    feeds.add_posts_to_feed(follower_id, recent, settings.feed_entry_ttl_days)


def on_unfollowed(follower_id: str, followee_id: str) -> None:
    feeds.remove_author_from_feed(follower_id, followee_id)


def on_follower_count_changed(user_id: str, follower_count: int, queue: FanoutQueue) -> None:
    """Crossing the threshold upwards makes a celebrity: index every follow edge to it."""
    if follower_count < get_settings().fanout_threshold:
        return
    if users.mark_celebrity(user_id):
        logger.info("account became a celebrity", user_id=user_id, followers=follower_count)
        queue.enqueue(FanoutJob(JobKind.TAG, user_id))
