"""S3 event notifications delivered to a handler, as S3 invokes Lambda: one record per event.

moto can't invoke a Lambda without Docker, but it does send real notifications to SQS. So each
``@app.on_s3_event`` handler gets a queue in the embedded AWS, the bucket's notification
configuration gains a QueueConfiguration with the handler's events and key filter, and the
source polls the queue and invokes the handler asynchronously, with Lambda's retries.
moto notifies for PutObject (``ObjectCreated:Put``), presigned-POST uploads
(``ObjectCreated:Post``), copies and multipart uploads.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from botocore.exceptions import ClientError

from local.plumbing.lambda_semantics import (
    AsyncInvocationQueue,
    Clock,
    LambdaFunction,
    RetryPolicy,
)
from local.plumbing.on_failure import OnFailureDestination

log = logging.getLogger("local_stack")

_NOTIFICATION_KINDS = (
    "TopicConfigurations",
    "QueueConfigurations",
    "LambdaFunctionConfigurations",
    "EventBridgeConfiguration",
)
_MISSING_QUEUE = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
_LOCAL_PRINCIPAL = "AWS:LOCAL-STACK"


def lambda_s3_record(record: dict[str, Any]) -> dict[str, Any]:
    """Complete a moto notification record to the shape S3 gives Lambda.

    moto leaves out ``userIdentity``, ``requestParameters``, ``responseElements``, the bucket's
    ``ownerIdentity`` and the object's ``sequencer`` (Powertools' S3 parser model requires the
    first four), and encodes ``/`` in keys as ``%2F`` where S3 keeps it.
    """
    s3 = record["s3"]
    s3_object = dict(s3["object"])
    s3_object["key"] = quote_plus(unquote_plus(s3_object["key"]), safe="/")
    s3_object.setdefault("sequencer", format(time.time_ns(), "018X"))
    return {
        "eventVersion": record["eventVersion"],
        "eventSource": record["eventSource"],
        "awsRegion": record["awsRegion"],
        "eventTime": record["eventTime"],
        "eventName": record["eventName"],
        "userIdentity": record.get("userIdentity", {"principalId": _LOCAL_PRINCIPAL}),
        "requestParameters": record.get("requestParameters", {"sourceIPAddress": "127.0.0.1"}),
        "responseElements": record.get(
            "responseElements",
            {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": uuid.uuid4().hex},
        ),
        "s3": {
            "s3SchemaVersion": s3["s3SchemaVersion"],
            "configurationId": s3["configurationId"],
            "bucket": {
                "name": s3["bucket"]["name"],
                "ownerIdentity": s3["bucket"].get(
                    "ownerIdentity", {"principalId": _LOCAL_PRINCIPAL}
                ),
                "arn": s3["bucket"]["arn"],
            },
            "object": s3_object,
        },
    }


def notification_queue_name(function_name: str) -> str:
    """The embedded-AWS queue that carries a function's S3 notifications."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"s3-events-{function_name}")[:80]


class S3NotificationSource:
    """S3 notifications of one bucket, filtered as configured, for one handler.

    Parameters
    ----------
    function:
        The handler to invoke, once per S3 event record.
    bucket, events, prefix, suffix:
        As given to ``@app.on_s3_event``.
    retry_policy:
        Lambda's asynchronous retries (two by default) for a handler that raises.
    wiring_lock:
        Shared by every S3 source: notification configuration is read, merged and written
        back, and two handlers on one bucket must not overwrite each other's entry.
    """

    event_source = "aws:s3"

    def __init__(
        self,
        function: LambdaFunction,
        *,
        bucket: str,
        events: list[str],
        prefix: str | None,
        suffix: str | None,
        retry_policy: RetryPolicy,
        on_failure: OnFailureDestination,
        s3: Any,
        sqs: Any,
        wiring_lock: threading.Lock,
        refresh_interval_seconds: float = 1.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.name = function.handler_name
        self._function = function
        self._bucket = bucket
        self._events = list(events)
        self._filter_rules = [
            {"Name": name, "Value": value}
            for name, value in (("prefix", prefix), ("suffix", suffix))
            if value
        ]
        self._s3 = s3
        self._sqs = sqs
        self._wiring_lock = wiring_lock
        self._refresh_interval_seconds = refresh_interval_seconds
        self._clock = clock
        self._invocations = AsyncInvocationQueue(
            function, self.event_source, retry_policy, on_failure, clock
        )
        self._queue_name = notification_queue_name(function.function_name)
        self._configuration_id = f"local-stack-{function.handler_name}"
        self._queue_url: str | None = None
        self._queue_arn: str | None = None
        self._refresh_due_at = 0.0
        self._caught_up = True
        self._waiting_reported = False

    @property
    def drained(self) -> bool:
        return self._caught_up and not self._invocations.pending

    def request_refresh(self) -> None:
        self._refresh_due_at = 0.0

    def seconds_until_due(self) -> float | None:
        return self._invocations.seconds_until_due()

    def prepare(self) -> None:
        """Create the queue and wire the bucket, so uploads made from now on are delivered."""
        self._wire()

    def poll(self) -> bool:
        if self._clock() >= self._refresh_due_at:
            self._wire()
        worked = self._receive() if self._queue_url else False
        return self._invocations.invoke_due() or worked

    def _wire(self) -> None:
        self._refresh_due_at = self._clock() + self._refresh_interval_seconds
        with self._wiring_lock:
            if self._queue_url is None:
                self._queue_url = self._sqs.create_queue(QueueName=self._queue_name)["QueueUrl"]
                self._queue_arn = self._sqs.get_queue_attributes(
                    QueueUrl=self._queue_url, AttributeNames=["QueueArn"]
                )["Attributes"]["QueueArn"]
            try:
                current = self._s3.get_bucket_notification_configuration(Bucket=self._bucket)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "NoSuchBucket":
                    raise
                if not self._waiting_reported:
                    log.warning(
                        "bucket not found, waiting for it",
                        extra={
                            "function_name": self._function.function_name,
                            "bucket": self._bucket,
                        },
                    )
                    self._waiting_reported = True
                return
            self._waiting_reported = False
            wanted: dict[str, Any] = {
                "Id": self._configuration_id,
                "QueueArn": self._queue_arn,
                "Events": self._events,
            }
            if self._filter_rules:
                wanted["Filter"] = {"Key": {"FilterRules": self._filter_rules}}
            queue_configurations = current.get("QueueConfigurations", [])
            if wanted in queue_configurations:
                return
            # Keep every other notification on the bucket: other handlers' entries and
            # whatever the app configured itself.
            configuration = {kind: current[kind] for kind in _NOTIFICATION_KINDS if kind in current}
            configuration["QueueConfigurations"] = [
                entry for entry in queue_configurations if entry.get("Id") != self._configuration_id
            ] + [wanted]
            self._s3.put_bucket_notification_configuration(
                Bucket=self._bucket, NotificationConfiguration=configuration
            )
        log.info(
            "s3 notifications wired",
            extra={
                "function_name": self._function.function_name,
                "bucket": self._bucket,
                "events": self._events,
                "filter_rules": self._filter_rules,
                "queue": self._queue_name,
            },
        )

    def _receive(self) -> bool:
        try:
            # Never long-poll: the embedded AWS serves one request at a time, and a waiting
            # ReceiveMessage would hold every other client up.
            response = self._sqs.receive_message(
                QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _MISSING_QUEUE:
                raise
            self._queue_url = None
            self.request_refresh()
            return False
        messages = response.get("Messages", [])
        self._caught_up = not messages
        for message in messages:
            for record in self._s3_records(message["Body"]):
                # S3 invokes Lambda once per event record.
                self._invocations.submit({"Records": [lambda_s3_record(record)]})
        if messages:
            # S3 hands the event to Lambda's asynchronous queue and is done with it; retries
            # happen in that queue, so the message goes now.
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(messages)
                ],
            )
        return bool(messages)

    def _s3_records(self, body: str) -> list[dict[str, Any]]:
        try:
            notification = json.loads(body)
        except json.JSONDecodeError:
            log.warning("unreadable s3 notification dropped", extra={"queue": self._queue_name})
            return []
        if notification.get("Event") == "s3:TestEvent":
            # S3 sends this when the configuration is written; Lambda never sees it.
            return []
        return list(notification.get("Records", []))
