"""The stream Lambdas: one per table stream, each handing records to that table's consumers.

A feature consumes a table's changes by adding its function to the tuple here; the function
takes one Powertools ``DynamoDBRecord`` and must be idempotent (records can come twice).
``app.py`` subscribes each handler to its table's stream with the batching in ``BATCH``.
"""

from chalice.app import DynamoDBEvent

from chalicelib.feed import consumers as feed
from chalicelib.follows import consumers as follows
from chalicelib.notifications import consumers as notifications
from chalicelib.search import consumers as search
from chalicelib.stories import consumers as stories
from chalicelib.streams.dispatch import StreamConsumer, dispatch_records

USERS_CONSUMERS: tuple[StreamConsumer, ...] = (
    feed.on_user_record,
    search.on_user_record,
    follows.on_user_record,  # last: approving many requests may run out of time and retry
)
FOLLOWS_CONSUMERS: tuple[StreamConsumer, ...] = (
    feed.on_follow_record,
    notifications.on_follow_record,
    stories.on_follow_record,
)
POSTS_CONSUMERS: tuple[StreamConsumer, ...] = (
    feed.on_post_record,
    notifications.on_post_record,
    search.on_post_record,
)
LIKES_CONSUMERS: tuple[StreamConsumer, ...] = (notifications.on_like_record,)
COMMENTS_CONSUMERS: tuple[StreamConsumer, ...] = (notifications.on_comment_record,)
STORIES_CONSUMERS: tuple[StreamConsumer, ...] = (stories.on_story_record,)

BATCH = {
    "batch_size": 100,
    "starting_position": "TRIM_HORIZON",
    "maximum_batching_window_in_seconds": 1,
}


def users_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, USERS_CONSUMERS)


def follows_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, FOLLOWS_CONSUMERS)


def posts_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, POSTS_CONSUMERS)


def likes_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, LIKES_CONSUMERS)


def comments_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, COMMENTS_CONSUMERS)


def stories_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, STORIES_CONSUMERS)
