"""What search makes of table changes (stream records); each consumer is idempotent.

A user is indexed once confirmed (at sign-up where no confirmation is asked; an account
waiting for its emailed code is found by nobody) and whenever a name changes; a post when
made, whenever its caption, tags or place change, and removed when deleted. Other changes
(counters, privacy, likes) leave the index as it is: what a list shows is read fresh at
query time.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib.core.observability import logger
from chalicelib.search.domain import PostDocument, UnreadableImage, UserDocument
from chalicelib.search.index import search_index


def on_user_record(record: DynamoDBRecord) -> None:
    old, new = _images(record)
    if new is None:
        if old is not None and old.get("user_id"):
            search_index().remove_user(str(old["user_id"]))
        return
    if not UserDocument.findable(new):
        return  # waiting for its emailed code: indexed when confirmed
    user = UserDocument.from_image(new)
    if old is not None and UserDocument.findable(old) and UserDocument.from_image(old) == user:
        return  # a counter or a setting changed, not a name
    search_index().index_user(user)
    logger.debug("user indexed", user_id=user.user_id)


def on_post_record(record: DynamoDBRecord) -> None:
    old, new = _images(record)
    previous = PostDocument.from_image(old) if old is not None else None
    if new is None:
        if previous is not None:
            search_index().remove_post(previous)
            logger.info("post unindexed", post_id=previous.post_id)
        return
    post = PostDocument.from_image(new)
    if post == previous:
        return  # likes or comments were counted: nothing searchable changed
    search_index().index_post(post, previous)
    logger.info("post indexed", post_id=post.post_id, hashtags=len(post.hashtags))


def _images(record: DynamoDBRecord) -> tuple[dict | None, dict | None]:
    if record.dynamodb is None:
        raise UnreadableImage("the record has no dynamodb images")
    return record.dynamodb.old_image or None, record.dynamodb.new_image or None
