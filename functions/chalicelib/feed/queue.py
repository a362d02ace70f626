"""The fan-out work queue (SQS): each message is one page of followers to write.

Chaining pages through the queue keeps every invocation to one page, however many followers
an author has, and a failed page is retried alone (then dead-lettered) by SQS.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.clients import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.errors import DependencyUnavailable
from chalicelib.feed.domain import FanoutJob, JobKind
from chalicelib.posts.domain import PostRef
from chalicelib.stories.domain import StoryRef


class FanoutQueue(Protocol):
    """Where fan-out jobs wait for a worker."""

    def enqueue(self, job: FanoutJob) -> None: ...


def encode_job(job: FanoutJob) -> str:
    body: dict[str, Any] = {"kind": job.kind.value, "author_id": job.author_id, "start": job.start}
    if job.post is not None:
        body["post"] = {
            "post_id": job.post.post_id,
            "author_id": job.post.author_id,
            "created_at": job.post.created_at,
        }
    if job.story is not None:
        body["story"] = {
            "owner_id": job.story.owner_id,
            "created_at": job.story.created_at,
            "story_id": job.story.story_id,
            "expires_at": job.story.expires_at,
        }
    return json.dumps(body, separators=(",", ":"))


def decode_job(body: str) -> FanoutJob:
    data = json.loads(body)
    post = data.get("post")
    return FanoutJob(
        kind=JobKind(data["kind"]),
        author_id=data["author_id"],
        post=PostRef(post["created_at"], post["post_id"], post["author_id"]) if post else None,
        start=data.get("start"),
        story=StoryRef(**story) if (story := data.get("story")) else None,
    )


class SqsFanoutQueue:
    def enqueue(self, job: FanoutJob) -> None:
        try:
            aws_client("sqs").send_message(
                QueueUrl=get_settings().fanout_queue_url, MessageBody=encode_job(job)
            )
        except (BotoCoreError, ClientError) as exc:
            raise DependencyUnavailable("could not queue the fan-out") from exc
