"""SQS messages delivered to a handler in batches, as Lambda's SQS event source mapping does.

Messages the handler succeeded on are deleted. Failed ones (all of them when it raises, the
reported ones with ReportBatchItemFailures) are made visible again and retried. A queue with a
redrive policy moves a message to its dead-letter queue after maxReceiveCount receives, as on
AWS. A queue without one would retry on AWS until the message expires; locally the message is
retried `max_retry_attempts` times and then sent to the on-failure destination, so a poison
message can't spin for days.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

from botocore.exceptions import ClientError

from local.plumbing.lambda_semantics import (
    BatchOutcome,
    Clock,
    LambdaFunction,
    RetryPolicy,
    invoke_batch,
)
from local.plumbing.on_failure import (
    DeadLetter,
    OnFailureDestination,
    request_context,
    response_context,
    utc_timestamp,
)

log = logging.getLogger("local_stack")

_MISSING_QUEUE = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
# SQS hands out at most ten messages per ReceiveMessage.
_MAX_MESSAGES_PER_RECEIVE = 10
# How long a received message stays hidden from other consumers while its batch fills and
# runs: the handler's timeout plus the longest batching window Lambda allows.
_IN_FLIGHT_VISIBILITY_SECONDS = 60 + 300


def lambda_sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """Turn a ReceiveMessage message (as boto3 parses it) into a record of Lambda's SQS event."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    # Lambda writes message attributes in camelCase with binary values in base64; boto3 gives
    # PascalCase and bytes.
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [_base64(item) for item in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _base64(value["BinaryValue"])
    return attribute


def _base64(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    return base64.b64encode(content).decode("ascii")


class SqsQueueSource:
    """An event source mapping from one SQS queue to one handler.

    Parameters
    ----------
    function:
        The handler to deliver to.
    queue_name:
        The queue's name (from ``queue``, or the last part of ``queue_arn``). The queue is not
        created: on AWS it must exist before the mapping, so a missing queue is waited for.
    batch_size, batching_window_seconds:
        As configured on the mapping.
    retry_policy:
        Bounds retries of a failed message on a queue without a redrive policy.
    report_batch_item_failures:
        Read ``batchItemFailures`` from the handler's response (FunctionResponseTypes).
    """

    event_source = "aws:sqs"

    def __init__(
        self,
        function: LambdaFunction,
        *,
        queue_name: str,
        batch_size: int,
        batching_window_seconds: float,
        retry_policy: RetryPolicy,
        report_batch_item_failures: bool,
        on_failure: OnFailureDestination,
        sqs: Any,
        refresh_interval_seconds: float = 1.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.name = function.handler_name
        self._function = function
        self._queue_name = queue_name
        self._batch_size = batch_size
        self._batching_window_seconds = batching_window_seconds
        self._retry_policy = retry_policy
        self._report_batch_item_failures = report_batch_item_failures
        self._on_failure = on_failure
        self._sqs = sqs
        self._refresh_interval_seconds = refresh_interval_seconds
        self._clock = clock
        self._queue_url: str | None = None
        self._queue_arn = ""
        self._has_redrive_policy = False
        self._refresh_due_at = 0.0
        self._waiting_reported = False
        self._buffer: list[dict[str, Any]] = []
        self._buffered_since: float | None = None
        self._queue_empty = True

    @property
    def drained(self) -> bool:
        return self._queue_empty and not self._buffer

    def request_refresh(self) -> None:
        self._refresh_due_at = 0.0

    def seconds_until_due(self) -> float | None:
        if self._buffered_since is None or not self._batching_window_seconds:
            return None
        return max(0.0, self._buffered_since + self._batching_window_seconds - self._clock())

    def prepare(self) -> None:
        self._resolve_queue()

    def poll(self) -> bool:
        if self._clock() >= self._refresh_due_at:
            self._resolve_queue()
        if self._queue_url is None:
            return False
        received = self._receive()
        if not self._buffer:
            self._queue_empty = self._nothing_waiting()
            return False
        window_open = (
            self._buffered_since is not None
            and self._clock() - self._buffered_since < self._batching_window_seconds
        )
        if len(self._buffer) < self._batch_size and window_open:
            return received > 0
        batch, self._buffer = self._buffer[: self._batch_size], self._buffer[self._batch_size :]
        self._buffered_since = self._clock() if self._buffer else None
        self._deliver(batch)
        return True

    def _resolve_queue(self) -> None:
        self._refresh_due_at = self._clock() + self._refresh_interval_seconds
        try:
            url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn", "RedrivePolicy"]
            )["Attributes"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _MISSING_QUEUE:
                raise
            self._queue_url = None
            if not self._waiting_reported:
                log.warning(
                    "queue not found, waiting for it",
                    extra={
                        "function_name": self._function.function_name,
                        "queue": self._queue_name,
                    },
                )
                self._waiting_reported = True
            return
        self._waiting_reported = False
        self._queue_url = url
        self._queue_arn = attributes["QueueArn"]
        self._has_redrive_policy = "RedrivePolicy" in attributes

    def _receive(self) -> int:
        wanted = min(_MAX_MESSAGES_PER_RECEIVE, self._batch_size - len(self._buffer))
        if wanted <= 0:
            return 0
        try:
            # Never long-poll: the embedded AWS serves one request at a time.
            response = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=wanted,
                WaitTimeSeconds=0,
                VisibilityTimeout=_IN_FLIGHT_VISIBILITY_SECONDS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _MISSING_QUEUE:
                raise
            self._queue_url = None
            self.request_refresh()
            return 0
        messages = response.get("Messages", [])
        if messages and not self._buffer:
            self._buffered_since = self._clock()
        self._buffer += [lambda_sqs_record(message, self._queue_arn) for message in messages]
        return len(messages)

    def _nothing_waiting(self) -> bool:
        # An empty receive doesn't mean an empty queue: delayed messages are on their way.
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
        )["Attributes"]
        return all(int(count) == 0 for count in attributes.values())

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        message_ids = [record["messageId"] for record in batch]
        outcome = invoke_batch(
            self._function,
            {"Records": batch},
            message_ids,
            report_batch_item_failures=self._report_batch_item_failures,
        )
        failed = (
            batch
            if outcome.whole_batch_failed
            else [record for record in batch if record["messageId"] in outcome.failed_identifiers]
        )
        succeeded = [record for record in batch if record not in failed]
        given_up = [
            record
            for record in failed
            if not self._has_redrive_policy
            and self._retry_policy.exhausted(int(record["attributes"]["ApproximateReceiveCount"]))
        ]
        self._delete(succeeded + given_up)
        # Visible again at once rather than after the queue's visibility timeout (30 s by
        # default), so a retry shows up while a test is still waiting for it.
        self._make_visible([record for record in failed if record not in given_up])
        if failed:
            log.info(
                "sqs batch had failures",
                extra={
                    "function_name": self._function.function_name,
                    "failed": len(failed),
                    "given_up": len(given_up),
                    "reason": outcome.describe(),
                },
            )
        for record in given_up:
            self._give_up(record, outcome)

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), _MAX_MESSAGES_PER_RECEIVE):
            chunk = records[start : start + _MAX_MESSAGES_PER_RECEIVE]
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                    for index, record in enumerate(chunk)
                ],
            )

    def _make_visible(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), _MAX_MESSAGES_PER_RECEIVE):
            chunk = records[start : start + _MAX_MESSAGES_PER_RECEIVE]
            self._sqs.change_message_visibility_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {
                        "Id": str(index),
                        "ReceiptHandle": record["receiptHandle"],
                        "VisibilityTimeout": 0,
                    }
                    for index, record in enumerate(chunk)
                ],
            )

    def _give_up(self, record: dict[str, Any], outcome: BatchOutcome) -> None:
        receive_count = int(record["attributes"]["ApproximateReceiveCount"])
        self._on_failure.send(
            DeadLetter(
                function_name=self._function.function_name,
                event_source=self.event_source,
                condition="RetryAttemptsExhausted",
                error=outcome.describe(),
                # AWS has no on-failure record for SQS (its dead-letter queue gets the message
                # itself); this one follows the asynchronous-invocation shape.
                invocation_record={
                    "version": "1.0",
                    "timestamp": utc_timestamp(),
                    "requestContext": request_context(
                        "RetryAttemptsExhausted", self._function.function_arn, receive_count
                    ),
                    "requestPayload": {"Records": [record]},
                    "responseContext": response_context(outcome.error),
                },
                records=[record],
            )
        )
