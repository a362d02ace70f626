"""The stream Lambdas: one per table stream, each handing records to that table's consumers.

A feature consumes a table's changes by adding its function to that table's handler here;
the function takes one Powertools ``DynamoDBRecord`` and must be idempotent (records can come
twice). Consumer modules are imported by a handler's first call (``chalicelib/core/lazy.py``),
so each stream function loads only its own consumers.
``app.py`` subscribes each handler to its table's stream with the batching in ``BATCH``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from chalice.app import DynamoDBEvent

from chalicelib.core.lazy import lazy_module
from chalicelib.streams.dispatch import dispatch_records

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

    from chalicelib.feed import consumers as feed
    from chalicelib.follows import consumers as follows
    from chalicelib.media import consumers as media
    from chalicelib.notifications import consumers as notifications
    from chalicelib.posts import consumers as posts
    from chalicelib.search import consumers as search
    from chalicelib.stories import consumers as stories
else:
    feed = lazy_module("chalicelib.feed.consumers")
    follows = lazy_module("chalicelib.follows.consumers")
    media = lazy_module("chalicelib.media.consumers")
    notifications = lazy_module("chalicelib.notifications.consumers")
    posts = lazy_module("chalicelib.posts.consumers")
    search = lazy_module("chalicelib.search.consumers")
    stories = lazy_module("chalicelib.stories.consumers")


class Batching(TypedDict):
    batch_size: int
    starting_position: str
    maximum_batching_window_in_seconds: int


BATCH: Batching = {
    "batch_size": 100,
    "starting_position": "TRIM_HORIZON",
    "maximum_batching_window_in_seconds": 1,
}


def users_stream(event: DynamoDBEvent) -> PartialItemFailureResponse:
    consumers = (
        feed.on_user_record,
        search.on_user_record,
        follows.on_user_record,  # last: approving many requests may run out of time and retry
    )
    return dispatch_records(event.to_dict(), event.context, consumers)


def follows_stream(event: DynamoDBEvent) -> PartialItemFailureResponse:
    consumers = (feed.on_follow_record, notifications.on_follow_record, stories.on_follow_record)
    return dispatch_records(event.to_dict(), event.context, consumers)


def posts_stream(event: DynamoDBEvent) -> PartialItemFailureResponse:
    consumers = (
        feed.on_post_record,
        notifications.on_post_record,
        search.on_post_record,
        posts.on_post_record,
    )
    return dispatch_records(event.to_dict(), event.context, consumers)


def likes_stream(event: DynamoDBEvent) -> PartialItemFailureResponse:
    return dispatch_records(event.to_dict(), event.context, (notifications.on_like_record,))


def comments_stream(event: DynamoDBEvent) -> PartialItemFailureResponse:
    return dispatch_records(event.to_dict(), event.context, (notifications.on_comment_record,))


def stories_stream(event: DynamoDBEvent) -> PartialItemFailureResponse:
    return dispatch_records(event.to_dict(), event.context, (stories.on_story_record,))


def media_stream(event: DynamoDBEvent) -> PartialItemFailureResponse:
    return dispatch_records(event.to_dict(), event.context, (media.on_media_record,))
