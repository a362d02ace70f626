from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.operations import operation
from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.core import schema
    from chalicelib.stories import schemas, service
else:
    schema = lazy_module("chalicelib.core.schema")
    schemas = lazy_module("chalicelib.stories.schemas")
    service = lazy_module("chalicelib.stories.service")

stories_api = Blueprint(__name__)


@stories_api.route("/stories", methods=["POST"])
@operation(status=201, idempotent=True, rate_limit="stories", errors=(403, 404, 409))
def create_story(details: schemas.CreateStoryInput) -> schemas.StoryCreatedOut:
    """Post a story from one of your ready photos; it is shown for 24 hours."""
    story = service.create_story(caller(stories_api.current_request).user_id, details)
    return schemas.render_created(story)


@stories_api.route("/stories/feed", methods=["GET"])
def story_tray() -> schema.ListOf[schemas.TrayGroupOut]:
    """The story tray, a page of accounts: yours first, then followed accounts' with a story
    you have not seen, then the rest; most recent first."""
    request = stories_api.current_request
    paging = page_request(request)
    page = service.tray(caller(request).user_id, paging)
    return list_body(page, paging, schemas.render_tray_group)


@stories_api.route("/users/{user_id}/stories", methods=["GET"])
@operation(errors=(403,))
def user_stories(user_id: str) -> schemas.UserStoriesOut:
    """An account's active stories, oldest first."""
    stories = service.user_stories(caller(stories_api.current_request).user_id, user_id)
    return schemas.render_user_stories(stories)


@stories_api.route("/stories/{story_id}/view", methods=["POST"])
@operation(errors=(403,))
def view_story(story_id: str) -> None:
    """Record that you saw a story (its owner's viewers list shows it)."""
    service.view(caller(stories_api.current_request).user_id, story_id)


@stories_api.route("/stories/{story_id}/viewers", methods=["GET"])
@operation(errors=(403,))
def story_viewers(story_id: str) -> schema.ListOf[schemas.StoryViewerOut]:
    """Who saw your story, newest first (its owner only: 403)."""
    request = stories_api.current_request
    paging = page_request(request)
    page = service.viewers(caller(request).user_id, story_id, paging)
    return list_body(page, paging, lambda viewer: schemas.render_viewer(*viewer))
