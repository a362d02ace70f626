"""Posting stories, the story tray, a user's stories, views and the viewers list.

Every read drops stories at or after their ``expires_at`` itself (DynamoDB TTL is late), and
every "may this viewer see them" question goes to ``stories.visibility``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

from chalicelib.core.clock import epoch_seconds, utc_now
from chalicelib.core.config import get_settings
from chalicelib.core.errors import AlreadyExists, NotAllowed, NotFound
from chalicelib.core.observability import logger, metrics
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.follows import repository as follows
from chalicelib.media import repository as media
from chalicelib.media import storage
from chalicelib.media.domain import Media, MediaStatus, Purpose, attached
from chalicelib.stories import repository
from chalicelib.stories.domain import (
    MediaNotAttachable,
    Story,
    expiry_of,
    new_story_id,
    owner_of,
)
from chalicelib.stories.schemas import (
    CreateStoryInput,
    StoryCreatedOut,
    StoryViewerOut,
    TrayGroupOut,
    TrayOut,
    UserStoriesOut,
    render_created,
    render_story,
    render_viewer,
)
from chalicelib.stories.visibility import ensure_may_see_stories, may_see_stories
from chalicelib.users import repository as users
from chalicelib.users.domain import User
from chalicelib.users.schemas import render_summary

# Posting ----------------------------------------------------------------------------------


def create_story(owner_id: str, details: CreateStoryInput) -> StoryCreatedOut:
    """Make a story of the owner's ready story photo, atomically with attaching the photo.

    Someone else's media: 403. Uploaded for another purpose: 400. Unknown or expired: 404.
    Not ready, failed, or already used: 409.
    """
    now = utc_now()
    photo = media.get_many([details.media_id], now).get(details.media_id)
    _check_attachable(owner_id, details.media_id, photo)
    assert photo is not None
    story = Story(
        story_id=new_story_id(owner_id, now),
        owner_id=owner_id,
        created_at=now,
        expires_at=expiry_of(now, get_settings().story_ttl_seconds),
        media=attached(photo),
    )
    try:
        repository.create_story(story, now)
    except MediaNotAttachable as exc:
        again = media.get_many([details.media_id], utc_now()).get(details.media_id)
        _check_attachable(owner_id, details.media_id, again)
        raise AlreadyExists("the media changed while the story was made; retry") from exc
    logger.info("story created", story_id=story.story_id)
    metrics.add_metric(name="StoriesCreated", unit="Count", value=1)
    return render_created(story)


def _check_attachable(owner_id: str, media_id: str, found: Media | None) -> None:
    if found is None:
        raise NotFound(f"no media with id {media_id!r}")
    if found.owner_id != owner_id:
        raise NotAllowed(f"media {media_id!r} is not yours")
    if found.purpose is not Purpose.STORY:
        # 409, as for media not ready: the request is well formed; the media's state refuses it.
        raise AlreadyExists(
            f"media {media_id!r} was uploaded as {found.purpose.value!r}; upload it with "
            "purpose 'story'"
        )
    if found.story_id is not None or found.post_id is not None:
        raise AlreadyExists(f"media {media_id!r} is already in a story")
    if found.status in (MediaStatus.PENDING, MediaStatus.PROCESSING):
        raise AlreadyExists(f"media {media_id!r} is not ready yet; retry once it is")
    if found.status is MediaStatus.FAILED:
        raise AlreadyExists(f"media {media_id!r} could not be processed: {found.reason}")


# Reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrayGroup:
    owner: User
    stories: list[Story]
    seen: set[str]

    @property
    def all_seen(self) -> bool:
        return all(story.story_id in self.seen for story in self.stories)

    @property
    def latest(self) -> str:
        return max(story.story_id for story in self.stories)  # ULIDs sort by time


def tray(viewer_id: str) -> TrayOut:
    """The viewer's story tray: their own stories first, then each followed account with an
    active story, unseen before seen, then most recent first.

    Requests: one Query of the viewer's tray entries (fanned out on write), one Query of the
    celebrities they follow and one per celebrity (side by side, at most
    ``MAX_CELEBRITIES_MERGED``), then one BatchGetItem over five tables (the entries'
    stories, the owners, the viewer's follow edges to them, their blocks of the viewer and
    the viewer's views) for up to 100 keys: 2 per story + 3 per owner.
    """
    now = utc_now()
    refs = repository.tray_refs(viewer_id, now)
    celebrities = follows.celebrities_followed_by(viewer_id, get_settings().max_celebrities_merged)
    pulled = [
        story
        for stories in _pool().map(lambda owner: repository.active_stories(owner, now), celebrities)
        for story in stories
    ]
    loaded_ids = {story.story_id for story in pulled}
    refs = [ref for ref in refs if ref.story_id not in loaded_ids]
    owner_ids = list(dict.fromkeys([ref.owner_id for ref in refs] + [s.owner_id for s in pulled]))
    if not owner_ids:
        return TrayOut(items=[])
    stories, owners, seen, followed, blockers = repository.read_for_tray(
        viewer_id, refs, pulled, owner_ids
    )

    by_owner: dict[str, list[Story]] = {}
    for story in stories.values():
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
    groups = [
        TrayGroup(owners[owner_id], sorted(owned, key=lambda s: s.story_id), seen)
        for owner_id, owned in by_owner.items()
    ]
    groups.sort(key=lambda group: group.latest, reverse=True)
    groups.sort(key=lambda group: (group.owner.user_id != viewer_id, group.all_seen))
    return TrayOut(items=[_render_group(group) for group in groups])


def _render_group(group: TrayGroup) -> TrayGroupOut:
    return TrayGroupOut(
        user=render_summary(group.owner),
        stories=[
            render_story(story, story.story_id in group.seen, storage.public_url)
            for story in group.stories
        ],
    )


@cache
def _pool() -> ThreadPoolExecutor:
    """Celebrity Queries run side by side: a tray waits for the slowest, not for their sum."""
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="stories-pull")


def user_stories(viewer_id: str, owner_id: str) -> UserStoriesOut:
    """A user's active stories, oldest first (one Query, one BatchGetItem for ``seen``)."""
    owner = ensure_may_see_stories(viewer_id, owner_id)
    stories = repository.active_stories(owner_id, utc_now())
    seen = repository.seen_by(viewer_id, [story.story_id for story in stories])
    return UserStoriesOut(
        user=render_summary(owner),
        items=[
            render_story(story, story.story_id in seen, storage.public_url) for story in stories
        ],
    )


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


def viewers(caller_id: str, story_id: str, page: PageRequest) -> Page[StoryViewerOut]:
    """Who viewed the story, newest first; its owner only (the id names the owner)."""
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
            render_viewer(profiles[viewer_id], viewed_at)
            for viewer_id, viewed_at in listed.items
            if viewer_id in profiles
        ],
        listed.position,
    )
