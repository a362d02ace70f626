"""SQS messages delivered to a handler in batches, as Lambda's SQS event source mapping does.

Messages the handler succeeded on are deleted. Failed ones (all of them when it raises, the
reported ones otherwise) are made visible again and retried. A queue with a redrive policy
moves a message to its dead-letter queue after maxReceiveCount receives, as on AWS. A queue
without one would retry on AWS until the message expires; locally a message is retried
`max_retry_attempts` times and then dead-lettered, so a poison message can't spin for days.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from chalice.app import SQSEventConfig

from local.plumbing import lambda_semantics
from local.plumbing.lambda_semantics import Buffer, LambdaFunction, Wiring

log = logging.getLogger("local_stack")

# SQS hands out (and deletes) at most ten messages per request.
_MAX_MESSAGES = 10
# How long a received message stays hidden while its batch fills and runs: the handler's
# timeout plus the longest batching window Lambda allows.
_IN_FLIGHT_VISIBILITY_SECONDS = 60 + 300


def lambda_sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """Turn a ReceiveMessage message (as boto3 parses it) into a record of Lambda's SQS event.
    Message attributes are not asked for: the app sends none."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


class SqsQueueSource:
    """An event source mapping from one SQS queue to one handler."""

    def __init__(self, function: LambdaFunction, config: SQSEventConfig, wiring: Wiring):
        self.name = function.handler_name
        self._function = function
        self._queue_name = config.queue or (config.queue_arn or "").rsplit(":", 1)[-1]
        self._batch_size = config.batch_size
        self._window_seconds = config.maximum_batching_window_in_seconds or 0
        self._wiring = wiring
        self._sqs = wiring.clients["sqs"]
        self._queue_url = self._queue_arn = ""
        self._has_redrive_policy = False
        self._buffer = Buffer()
        self._caught_up = True

    @property
    def drained(self) -> bool:
        return self._caught_up and not self._buffer.records

    def seconds_until_due(self) -> float | None:
        closes = self._buffer.window_closes_at(self._window_seconds)
        return None if closes is None else max(0.0, closes - time.monotonic())

    def prepare(self) -> None:
        """Find the queue: on AWS it exists before its mapping, and here it is provisioned
        before the plumbing starts."""
        self._queue_url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url, AttributeNames=["QueueArn", "RedrivePolicy"]
        )["Attributes"]
        self._queue_arn = attributes["QueueArn"]
        self._has_redrive_policy = "RedrivePolicy" in attributes

    def poll(self) -> bool:
        wanted = min(_MAX_MESSAGES, self._batch_size - len(self._buffer.records))
        # Never long-poll: the embedded AWS serves one request at a time.
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=wanted,
            WaitTimeSeconds=0,
            VisibilityTimeout=_IN_FLIGHT_VISIBILITY_SECONDS,
            AttributeNames=["All"],
        ).get("Messages", [])
        self._caught_up = not messages
        self._buffer.add([lambda_sqs_record(message, self._queue_arn) for message in messages])
        if not self._buffer.records:
            return False
        if self._buffer.filling(self._batch_size, self._window_seconds):
            return bool(messages)
        batch = self._buffer.records[: self._batch_size]
        self._buffer.drop(len(batch))
        self._deliver(batch)
        return True

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        message_ids = [record["messageId"] for record in batch]
        # Through the module, so a test that watches deliveries patches one place for all.
        outcome = lambda_semantics.invoke_batch(self._function, {"Records": batch}, message_ids)
        failed = [batch[index] for index in outcome.failed_indexes(message_ids)]
        retries = self._wiring.batch_retries
        given_up = [
            record
            for record in failed
            if not self._has_redrive_policy
            and retries.exhausted(int(record["attributes"]["ApproximateReceiveCount"]))
        ]
        done = [record for record in batch if record not in failed or record in given_up]
        self._batch_call("delete_message_batch", done)
        # Visible again at once rather than after the queue's visibility timeout (30 s by
        # default), so a retry shows up while a test is still waiting for it.
        retried = [record for record in failed if record not in given_up]
        self._batch_call("change_message_visibility_batch", retried, VisibilityTimeout=0)
        for record in given_up:
            self._wiring.dead_letters.send(self._function, "aws:sqs", outcome.describe(), [record])
        if failed:
            log.info(
                "sqs batch had failures",
                extra={"function_name": self._function.function_name, "failed": len(failed),
                       "given_up": len(given_up), "reason": outcome.describe()},
            )  # fmt: skip

    def _batch_call(self, operation: str, records: list[dict[str, Any]], **entry: Any) -> None:
        for start in range(0, len(records), _MAX_MESSAGES):
            entries = [
                {"Id": str(index), "ReceiptHandle": record["receiptHandle"], **entry}
                for index, record in enumerate(records[start : start + _MAX_MESSAGES])
            ]
            getattr(self._sqs, operation)(QueueUrl=self._queue_url, Entries=entries)
