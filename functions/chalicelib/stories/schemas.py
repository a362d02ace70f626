"""The stories routes' bodies in and out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import StringConstraints

from chalicelib.core.clock import iso
from chalicelib.core.schema import StrictInput
from chalicelib.media.schemas import render_renditions
from chalicelib.stories.domain import Story
from chalicelib.users.domain import User
from chalicelib.users.schemas import render_summary


class CreateStoryInput(StrictInput):
    media_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


def render_created(story: Story) -> dict[str, Any]:
    return {
        "story_id": story.story_id,
        "created_at": iso(story.created_at),
        "expires_at": iso(story.expires_at),
    }


def render_story(story: Story, seen: bool, url_for: Callable[[str], str]) -> dict[str, Any]:
    """The contract's story; ``url_for`` turns a stored rendition key into a fetchable URL."""
    photo = story.media
    return {
        "story_id": story.story_id,
        "media": {
            "media_id": photo.media_id,
            "width": photo.width,
            "height": photo.height,
            "renditions": render_renditions(photo.renditions, url_for),
        },
        "created_at": iso(story.created_at),
        "expires_at": iso(story.expires_at),
        "seen": seen,
    }


def render_viewer(user: User, viewed_at: str) -> dict[str, Any]:
    return {"user": render_summary(user), "viewed_at": viewed_at}


def render_user(user: User) -> dict[str, Any]:
    return render_summary(user)
