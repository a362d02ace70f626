"""Posting stories, the story tray, a user's stories, views and the viewers list.

Every read drops stories at or after their ``expires_at`` itself (DynamoDB TTL is late), and
every "may this viewer see them" question goes to ``stories.visibility``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

from chalicelib.core.clock import epoch_seconds, utc_now
from chalicelib.core.config import get_settings
from chalicelib.core.errors import AlreadyExists, NotAllowed, NotFound
from chalicelib.core.observability import logger, metrics
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.follows import repository as follows
from chalicelib.media import service as media
from chalicelib.media.domain import MediaNotAttachable, Purpose
from chalicelib.stories import repository
from chalicelib.stories.domain import (
    AccountStories,
    Story,
    TrayAccount,
    expiry_of,
    new_story_id,
    owner_of,
    tray_page,
)
from chalicelib.stories.schemas import CreateStoryInput
from chalicelib.stories.visibility import ensure_may_see_stories, may_see_stories
from chalicelib.users import repository as users
from chalicelib.users.domain import User

# Posting ----------------------------------------------------------------------------------


def create_story(owner_id: str, details: CreateStoryInput) -> Story:
    """Make a story of the owner's ready story photo, atomically with attaching the photo.

    Someone else's media: 403. Uploaded for another purpose: 400. Unknown or expired: 404.
    Not ready, failed, or already used: 409.
    """
    now = utc_now()
    (photo,) = media.photos_to_attach(owner_id, [details.media_id], Purpose.STORY, now)
    story = Story(
        story_id=new_story_id(owner_id, now),
        owner_id=owner_id,
        created_at=now,
        expires_at=expiry_of(now, get_settings().story_ttl_seconds),
        media=photo,
    )
    try:
        repository.create_story(story, now)
    except MediaNotAttachable as exc:
        media.explain_refusal(owner_id, exc, Purpose.STORY)
        raise AlreadyExists("the media changed while the story was made; retry") from exc
    logger.info("story created", story_id=story.story_id)
    metrics.add_metric(name="StoriesCreated", unit="Count", value=1)
    return story


# Reading ----------------------------------------------------------------------------------


def tray(viewer_id: str, page: PageRequest) -> Page[AccountStories]:
    """A page of the viewer's story tray, ``page.limit`` accounts long: their own stories
    first, then each followed account with an active story, those with one the viewer has
    not seen before the rest, then the most recent first.

    The order comes from the tray's entries alone (``tray_page``): one Query of the viewer's
    tray entries and "seen up to" items (fanned out and written on view), one Query of the
    celebrities they follow and one per celebrity (side by side, at most
    ``MAX_CELEBRITIES_MERGED``). Only the page's accounts are then read, in one BatchGetItem
    over five tables (their stories, the owners, the viewer's follow edges to them, their
    blocks of the viewer and the viewer's views) for up to 100 keys: 2 per story + 3 per
    owner. So a page costs the same whatever the following, and its size is bounded.
    """
    now = utc_now()
    refs, seen_up_to = repository.tray_entries(viewer_id, now)
    celebrities = follows.celebrities_followed_by(viewer_id, get_settings().max_celebrities_merged)
    pulled = [
        story
        for stories in _pool().map(lambda owner: repository.active_stories(owner, now), celebrities)
        for story in stories
    ]
    loaded_ids = {story.story_id for story in pulled}
    refs = [ref for ref in refs if ref.story_id not in loaded_ids]
    latest: dict[str, str] = {}
    for owner_id, story_id in [(r.owner_id, r.story_id) for r in refs] + [
        (s.owner_id, s.story_id) for s in pulled
    ]:
        latest[owner_id] = max(story_id, latest.get(owner_id, ""))
    accounts = [
        TrayAccount(owner, newest, seen_up_to.get(owner)) for owner, newest in latest.items()
    ]
    chosen, position = tray_page(accounts, viewer_id, page.position, page.limit)
    if not chosen:
        return Page([], None)
    chosen_ids = {account.owner_id for account in chosen}
    stories, owners, seen, followed, blockers = repository.read_for_tray(
        viewer_id,
        [ref for ref in refs if ref.owner_id in chosen_ids],
        [story for story in pulled if story.owner_id in chosen_ids],
        [account.owner_id for account in chosen],
    )

    by_owner: dict[str, list[Story]] = {}
    for story in sorted(stories.values(), key=lambda s: s.story_id):
        owner = owners.get(story.owner_id)
        if owner is None or not story.is_active(now):
            continue
        following = story.owner_id in followed
        # The tray shows followed accounts only: an unfollow hides them on the next read,
        # before their entries expire.
        if story.owner_id != viewer_id and not following:
            continue
        if may_see_stories(viewer_id, owner, following, story.owner_id in blockers):
            by_owner.setdefault(story.owner_id, []).append(story)
    seen_ids = frozenset(seen)
    groups = [
        AccountStories(owners[account.owner_id], tuple(by_owner[account.owner_id]), seen_ids)
        for account in chosen
        if account.owner_id in by_owner
    ]
    return Page(groups, position)


@cache
def _pool() -> ThreadPoolExecutor:
    """Celebrity Queries run side by side: a tray waits for the slowest, not for their sum."""
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="stories-pull")


def user_stories(viewer_id: str, owner_id: str) -> AccountStories:
    """A user's active stories, oldest first (one Query, one BatchGetItem for ``seen``)."""
    owner = ensure_may_see_stories(viewer_id, owner_id)
    stories = repository.active_stories(owner_id, utc_now())
    seen = repository.seen_by(viewer_id, [story.story_id for story in stories])
    return AccountStories(owner, tuple(stories), frozenset(seen))


# Views ------------------------------------------------------------------------------------


def view(viewer_id: str, story_id: str) -> None:
    """Record that the viewer saw the story, once; the owner's own views are not recorded."""
    owner_id = owner_of(story_id)
    if owner_id is None:
        raise NotFound("no story with that id")
    if owner_id == viewer_id:
        if repository.get_story(owner_id, story_id, utc_now()) is None:
            raise NotFound("no story with that id")
        return
    try:
        ensure_may_see_stories(viewer_id, owner_id)
    except NotFound as exc:
        raise NotFound("no story with that id") from exc
    now = utc_now()
    story = repository.get_story(owner_id, story_id, now)
    if story is None:
        raise NotFound("no story with that id")
    retention = get_settings().story_view_retention_seconds
    if repository.record_view(
        story_id, viewer_id, now, epoch_seconds(story.expires_at) + retention
    ):
        logger.info("story viewed", story_id=story_id)
        metrics.add_metric(name="StoryViews", unit="Count", value=1)
    # Also when the view was stored already: a retry after this failed finishes it.
    repository.mark_seen(viewer_id, story)


def viewers(caller_id: str, story_id: str, page: PageRequest) -> Page[tuple[User, str]]:
    """Who viewed the story and when (ISO-8601), newest first; its owner only (the id names
    the owner)."""
    owner_id = owner_of(story_id)
    if owner_id is None:
        raise NotFound("no story with that id")
    if owner_id != caller_id:
        # Someone the owner blocked learns nothing, not even that the story is theirs.
        ensure_may_see_stories(caller_id, owner_id)
        raise NotAllowed("only its owner can see who viewed a story")
    listed = repository.viewers_page(story_id, page)
    profiles = users.get_users(viewer_id for viewer_id, _ in listed.items)
    return Page(
        [
            (profiles[viewer_id], viewed_at)
            for viewer_id, viewed_at in listed.items
            if viewer_id in profiles
        ],
        listed.position,
    )
