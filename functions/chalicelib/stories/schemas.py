"""The stories routes' bodies in and out."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.core.clock import iso
from chalicelib.core.schema import ID_PATTERN, Output, StrictInput
from chalicelib.media.schemas import PhotoOut, render_photo
from chalicelib.media.storage import public_url
from chalicelib.stories.domain import AccountStories, Story
from chalicelib.users.domain import User
from chalicelib.users.schemas import UserSummaryOut, render_summary


class CreateStoryInput(StrictInput):
    media_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]


class StoryCreatedOut(Output):
    story_id: str
    created_at: str
    expires_at: str = Field(description="When it stops being shown: 24 h after creation.")


class StoryOut(Output):
    story_id: str
    media: PhotoOut
    created_at: str
    expires_at: str
    seen: bool = Field(description="Whether the caller has viewed it.")


class TrayGroupOut(Output):
    """One account's active stories in the tray, oldest first."""

    user: UserSummaryOut
    stories: list[StoryOut]


class UserStoriesOut(Output):
    """An account's active stories, oldest first (all of them: next_cursor is always null)."""

    user: UserSummaryOut
    items: list[StoryOut]
    next_cursor: None = None


class StoryViewerOut(Output):
    user: UserSummaryOut
    viewed_at: str


def render_created(story: Story) -> StoryCreatedOut:
    return StoryCreatedOut(
        story_id=story.story_id,
        created_at=iso(story.created_at),
        expires_at=iso(story.expires_at),
    )


def render_story(story: Story, seen: bool) -> StoryOut:
    """The contract's story, its renditions' URLs made by ``storage.public_url``."""
    return StoryOut(
        story_id=story.story_id,
        media=render_photo(story.media, public_url),
        created_at=iso(story.created_at),
        expires_at=iso(story.expires_at),
        seen=seen,
    )


def render_tray_group(group: AccountStories) -> TrayGroupOut:
    return TrayGroupOut(
        user=render_summary(group.owner),
        stories=[render_story(story, group.was_seen(story)) for story in group.stories],
    )


def render_user_stories(stories: AccountStories) -> UserStoriesOut:
    return UserStoriesOut(
        user=render_summary(stories.owner),
        items=[render_story(story, stories.was_seen(story)) for story in stories.stories],
    )


def render_viewer(user: User, viewed_at: str) -> StoryViewerOut:
    return StoryViewerOut(user=render_summary(user), viewed_at=viewed_at)
