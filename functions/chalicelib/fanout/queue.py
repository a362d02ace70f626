"""The fan-out work queue (SQS): each message is one page of followers to write.

Chaining pages through the queue keeps every invocation to one page, however many followers
an author has, and a failed page is retried alone (then dead-lettered) by SQS.

A message is ``{"kind", "author_id", "start", ...payload}``: the payload's keys sit beside the
job's own (``"post"``, ``"story"``), as they did when the feed's module wrote them, so jobs
queued by an older deploy read the same.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.clients import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.errors import DependencyUnavailable
from chalicelib.fanout.domain import FanoutJob

_JOB_KEYS = ("kind", "author_id", "start")


class FanoutQueue(Protocol):
    """Where fan-out jobs wait for a worker."""

    def enqueue(self, job: FanoutJob) -> None: ...


def encode_job(job: FanoutJob) -> str:
    clashing = set(_JOB_KEYS) & job.payload.keys()
    if clashing:
        raise ValueError(f"a fan-out payload may not use the job's keys: {sorted(clashing)}")
    body: dict[str, Any] = {
        "kind": str(job.kind),
        "author_id": job.author_id,
        "start": job.start,
        **job.payload,
    }
    return json.dumps(body, separators=(",", ":"))


def decode_job(body: str) -> FanoutJob:
    data = json.loads(body)
    return FanoutJob(
        kind=data["kind"],
        author_id=data["author_id"],
        payload={key: value for key, value in data.items() if key not in _JOB_KEYS},
        start=data.get("start"),
    )


class SqsFanoutQueue:
    def enqueue(self, job: FanoutJob) -> None:
        try:
            aws_client("sqs").send_message(
                QueueUrl=get_settings().fanout_queue_url, MessageBody=encode_job(job)
            )
        except (BotoCoreError, ClientError) as exc:
            raise DependencyUnavailable("could not queue the fan-out") from exc


@cache
def fanout_queue() -> FanoutQueue:
    return SqsFanoutQueue()
