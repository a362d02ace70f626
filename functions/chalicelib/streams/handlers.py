"""The stream Lambdas: one per table stream, each handing records to that table's consumers.

A feature consumes a table's changes by adding its function to the tuple here; the function
takes one Powertools ``DynamoDBRecord`` and must be idempotent (records can come twice).
"""

from chalice import Blueprint
from chalice.app import DynamoDBEvent

from chalicelib.core.config import get_settings
from chalicelib.feed import consumers as feed
from chalicelib.notifications import consumers as notifications
from chalicelib.stories import consumers as stories
from chalicelib.streams.dispatch import StreamConsumer, dispatch_records

USERS_CONSUMERS: tuple[StreamConsumer, ...] = (feed.on_user_record,)
FOLLOWS_CONSUMERS: tuple[StreamConsumer, ...] = (
    feed.on_follow_record,
    notifications.on_follow_record,
    stories.on_follow_record,
)
POSTS_CONSUMERS: tuple[StreamConsumer, ...] = (feed.on_post_record, notifications.on_post_record)
LIKES_CONSUMERS: tuple[StreamConsumer, ...] = (notifications.on_like_record,)
COMMENTS_CONSUMERS: tuple[StreamConsumer, ...] = (notifications.on_comment_record,)
STORIES_CONSUMERS: tuple[StreamConsumer, ...] = (stories.on_story_record,)

stream_handlers = Blueprint(__name__)
_BATCH = {
    "batch_size": 100,
    "starting_position": "TRIM_HORIZON",
    "maximum_batching_window_in_seconds": 1,
}


@stream_handlers.on_dynamodb_record(stream_arn=get_settings().users_stream_arn, **_BATCH)
def users_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, USERS_CONSUMERS)


@stream_handlers.on_dynamodb_record(stream_arn=get_settings().follows_stream_arn, **_BATCH)
def follows_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, FOLLOWS_CONSUMERS)


@stream_handlers.on_dynamodb_record(stream_arn=get_settings().posts_stream_arn, **_BATCH)
def posts_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, POSTS_CONSUMERS)


@stream_handlers.on_dynamodb_record(stream_arn=get_settings().likes_stream_arn, **_BATCH)
def likes_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, LIKES_CONSUMERS)


@stream_handlers.on_dynamodb_record(stream_arn=get_settings().comments_stream_arn, **_BATCH)
def comments_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, COMMENTS_CONSUMERS)


@stream_handlers.on_dynamodb_record(stream_arn=get_settings().stories_stream_arn, **_BATCH)
def stories_stream(event: DynamoDBEvent) -> dict:
    return dispatch_records(event.to_dict(), event.context, STORIES_CONSUMERS)
