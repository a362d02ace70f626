"""Stories into followers' trays: fanned out page by page like posts (``fanout/``), or for a
celebrity only into the owner's own tray (followers pull celebrities' stories when they read
their tray)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.clock import utc_now
from chalicelib.core.errors import NotFound
from chalicelib.fanout.domain import FanoutJob, is_celebrity
from chalicelib.fanout.queue import FanoutQueue
from chalicelib.stories import repository
from chalicelib.stories.domain import StoryRef
from chalicelib.stories.inboxes import STORY_JOB
from chalicelib.users import repository as users
from chalicelib.users.domain import User


def _owner(owner_id: str) -> User | None:
    try:
        return users.get_user(owner_id)
    except NotFound:
        return None


def _payload(story: StoryRef) -> dict[str, Any]:
    # The keys and their order are the queue's wire format: jobs in flight stay readable.
    return {
        "story": {
            "owner_id": story.owner_id,
            "created_at": story.created_at,
            "story_id": story.story_id,
            "expires_at": story.expires_at,
        }
    }


def _story_of(job: FanoutJob) -> StoryRef | None:
    story = job.payload.get("story")
    return StoryRef(**story) if story else None


def on_story_created(story: StoryRef, queue: FanoutQueue) -> None:
    owner = _owner(story.owner_id)
    if owner is None:
        return
    if is_celebrity(owner):
        repository.add_to_trays([owner.user_id], story)
        return
    queue.enqueue(FanoutJob(STORY_JOB, owner.user_id, _payload(story)))


def add_to_trays(job: FanoutJob, viewers: list[str]) -> None:
    """A ``story`` page: the story into each viewer's tray."""
    story = _story_of(job)
    if story is not None:
        repository.add_to_trays(viewers, story)


def on_followed(follower_id: str, followee_id: str) -> None:
    """A new follow: the followee's active stories join the follower's tray (celebrities'
    are pulled at read time instead)."""
    followee = _owner(followee_id)
    if followee is None or is_celebrity(followee):
        return
    active = repository.active_stories(followee_id, utc_now())
    repository.add_refs_to_tray(follower_id, [repository.story_ref(story) for story in active])
