from chalice import Blueprint, Response

from chalicelib.api.idempotency import created_once
from chalicelib.api.requests import body, caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

service = lazy_module("chalicelib.stories.service")
schemas = lazy_module("chalicelib.stories.schemas")

stories_api = Blueprint(__name__)


@stories_api.route("/stories", methods=["POST"])
def create_story() -> Response:
    request = stories_api.current_request
    owner, details = caller(request), body(request, schemas.CreateStoryInput)
    return created_once(
        stories_api, "POST /stories", owner.user_id, details,
        lambda: service.create_story(owner.user_id, details),
    )  # fmt: skip


@stories_api.route("/stories/feed", methods=["GET"])
def story_tray() -> dict:
    return {"items": service.tray(caller(stories_api.current_request).user_id)}


@stories_api.route("/users/{user_id}/stories", methods=["GET"])
def user_stories(user_id: str) -> dict:
    return service.user_stories(caller(stories_api.current_request).user_id, user_id)


@stories_api.route("/stories/{story_id}/view", methods=["POST"])
def view_story(story_id: str) -> Response:
    service.view(caller(stories_api.current_request).user_id, story_id)
    return Response(body="", status_code=204)


@stories_api.route("/stories/{story_id}/viewers", methods=["GET"])
def story_viewers(story_id: str) -> dict:
    request = stories_api.current_request
    scope = f"story-viewers:{story_id}"
    page = service.viewers(caller(request).user_id, story_id, page_request(request, scope))
    return list_body(page, scope, lambda viewer: viewer)
