"""Where Lambda sends what it gave up on: the on-failure destination of a mapping or function."""

from __future__ import annotations

import json
import logging
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("local_stack")


@dataclass(frozen=True)
class DeadLetter:
    """A batch or event whose retries ran out.

    Attributes
    ----------
    function_name:
        The function that failed, as deployed (``<app>-<stage>-<handler>``).
    event_source:
        ``aws:dynamodb``, ``aws:s3``, ``aws:sqs`` or ``aws.events``.
    condition:
        Lambda's reason: ``RetryAttemptsExhausted`` for stream and queue batches,
        ``RetriesExhausted`` for asynchronous invocations.
    error:
        The last error, or a note that the handler reported item failures.
    invocation_record:
        The JSON document Lambda sends to an on-failure destination for this kind of source.
    records:
        The event records that were not processed. Lambda sends only a description of a stream
        batch; the records are kept here so tests and people can see what was lost.
    """

    function_name: str
    event_source: str
    condition: str
    error: str
    invocation_record: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)


class OnFailureDestination:
    """The local on-failure destination: the log, an in-memory list, and an SQS queue if set.

    Parameters
    ----------
    sqs_client:
        Returns the SQS client to send with; called only when a queue is configured.
    queue_name:
        The queue Lambda would send invocation records to; created in the embedded AWS if
        missing. None keeps dead letters in memory and in the log only.
    """

    def __init__(self, sqs_client: Callable[[], Any], queue_name: str | None = None) -> None:
        self._sqs_client = sqs_client
        self._queue_name = queue_name
        self._queue_url: str | None = None
        self._lock = threading.Lock()
        self._dead_letters: list[DeadLetter] = []

    @property
    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            return list(self._dead_letters)

    def send(self, dead_letter: DeadLetter) -> None:
        with self._lock:
            self._dead_letters.append(dead_letter)
        log.error(
            "retries exhausted, event sent to the on-failure destination",
            extra={
                "function_name": dead_letter.function_name,
                "event_source": dead_letter.event_source,
                "condition": dead_letter.condition,
                "error": dead_letter.error,
                "record_count": len(dead_letter.records),
                "on_failure_queue": self._queue_name,
            },
        )
        if self._queue_name is None:
            return
        try:
            client = self._sqs_client()
            if self._queue_url is None:
                # CreateQueue returns the existing queue's URL, so this is safe to repeat.
                self._queue_url = client.create_queue(QueueName=self._queue_name)["QueueUrl"]
            client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=json.dumps(dead_letter.invocation_record, default=str),
            )
        except Exception:
            # Lambda drops the record when the destination is unreachable; so does the local
            # stack, but it says so.
            self._queue_url = None
            log.exception(
                "on-failure queue unreachable, record kept in memory only",
                extra={"on_failure_queue": self._queue_name},
            )


def lambda_function_arn(function_name: str, region: str, account_id: str) -> str:
    return f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def response_context(error: BaseException | None) -> dict[str, Any]:
    """Lambda's responseContext: a functionError only when the handler raised."""
    context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if error is not None:
        context["functionError"] = "Unhandled"
    return context


def error_payload(error: BaseException) -> dict[str, Any]:
    """The responsePayload Lambda records for a handler that raised."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_exception(error),
    }


def request_context(condition: str, function_arn: str, invoke_count: int) -> dict[str, Any]:
    return {
        "requestId": str(uuid.uuid4()),
        "functionArn": function_arn,
        "condition": condition,
        "approximateInvokeCount": invoke_count,
    }
