"""Fan-out on write, and the follow-graph changes that move posts in and out of feeds."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.core.config import get_settings
from chalicelib.core.errors import NotFound
from chalicelib.core.observability import logger, metrics
from chalicelib.core.pagination import PageRequest
from chalicelib.feed import repository as feeds
from chalicelib.feed.domain import FanoutJob, JobKind
from chalicelib.feed.queue import FanoutQueue
from chalicelib.follows import repository as follows
from chalicelib.posts import repository as posts
from chalicelib.posts.domain import PostRef
from chalicelib.stories import repository as stories
from chalicelib.stories.domain import StoryRef
from chalicelib.users import repository as users
from chalicelib.users.domain import User


def is_celebrity(author: User) -> bool:
    """At or over the threshold, an author is merged at read time instead of fanned out.

    The flag stays once set: a celebrity's followers are indexed to pull their posts, and
    pulling works for any account, so dropping back under the threshold needs no undoing.
    """
    return author.is_celebrity or author.follower_count >= get_settings().fanout_threshold


def _author(author_id: str) -> User | None:
    try:
        return users.get_user(author_id)
    except NotFound:
        return None


def on_post_created(post: PostRef, queue: FanoutQueue) -> None:
    author = _author(post.author_id)
    if author is None:
        return
    if is_celebrity(author):
        # Followers pull it; only the author's own feed gets an entry.
        feeds.add_to_feeds([author.user_id], post, get_settings().feed_entry_ttl_days)
        return
    queue.enqueue(FanoutJob(JobKind.ADD, author.user_id, post))


def on_post_deleted(post: PostRef, queue: FanoutQueue) -> None:
    author = _author(post.author_id)
    if author is None or is_celebrity(author):
        # Nothing (or only entries from before it became one) to find: reads skip posts
        # that no longer exist, so removing the author's own entry is enough.
        feeds.remove_from_feeds([post.author_id], post)
        return
    queue.enqueue(FanoutJob(JobKind.REMOVE, post.author_id, post))


def on_story_created(story: StoryRef, queue: FanoutQueue) -> None:
    """Like a post: into followers' trays page by page, or, for a celebrity, only into the
    owner's own tray (followers pull celebrities' stories when they read their tray)."""
    owner = _author(story.owner_id)
    if owner is None:
        return
    if is_celebrity(owner):
        stories.add_to_trays([owner.user_id], story)
        return
    queue.enqueue(FanoutJob(JobKind.STORY, owner.user_id, story=story))


def run_job(job: FanoutJob, queue: FanoutQueue) -> int:
    """Do one page of a job and queue the next page; returns how many followers it touched.

    Every write is idempotent (a put or delete of a known key, a conditional tag), so a page
    delivered twice does no harm.
    """
    settings = get_settings()
    page_size = settings.fanout_page_size if job.kind is not JobKind.TAG else 200
    page = follows.followers_page(job.author_id, PageRequest(limit=page_size, position=job.start))
    first_page = job.start is None
    if job.kind is JobKind.ADD and job.post is not None:
        recipients = page.items + ([job.author_id] if first_page else [])
        feeds.add_to_feeds(recipients, job.post, settings.feed_entry_ttl_days)
    elif job.kind is JobKind.REMOVE and job.post is not None:
        recipients = page.items + ([job.author_id] if first_page else [])
        feeds.remove_from_feeds(recipients, job.post)
    elif job.kind is JobKind.STORY and job.story is not None:
        recipients = page.items + ([job.author_id] if first_page else [])
        stories.add_to_trays(recipients, job.story)
    elif job.kind is JobKind.TAG:
        for follower_id in page.items:
            follows.tag_celebrity_edge(follower_id, job.author_id)
    if page.position is not None and page.items:
        queue.enqueue(replace(job, start=page.position))
    logger.info(
        "fan-out page done", kind=job.kind.value, author_id=job.author_id, followers=len(page.items)
    )
    metrics.add_metric(name="FanoutFollowers", unit="Count", value=len(page.items))
    return len(page.items)


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
