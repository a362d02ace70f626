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
import time
import uuid
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from chalice.app import S3EventConfig

from local.plumbing.lambda_semantics import AsyncInvocationQueue, LambdaFunction, Wiring

log = logging.getLogger("local_stack")

_NOTIFICATION_KINDS = (
    "TopicConfigurations",
    "LambdaFunctionConfigurations",
    "EventBridgeConfiguration",
)
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


class S3NotificationSource:
    """``@app.on_s3_event``: one bucket's notifications, filtered as configured, for one handler,
    invoked asynchronously with Lambda's retries."""

    def __init__(self, function: LambdaFunction, config: S3EventConfig, wiring: Wiring):
        self.name = function.handler_name
        self._function = function
        self._bucket = config.bucket
        self._wanted: dict[str, Any] = {
            "Id": f"local-stack-{function.handler_name}",
            "Events": config.events,
        }
        rules = [("prefix", config.prefix), ("suffix", config.suffix)]
        if config.prefix or config.suffix:
            filter_rules = [{"Name": name, "Value": value} for name, value in rules if value]
            self._wanted["Filter"] = {"Key": {"FilterRules": filter_rules}}
        self._wiring = wiring
        self._s3, self._sqs = wiring.clients["s3"], wiring.clients["sqs"]
        self._invocations = AsyncInvocationQueue(function, "aws:s3", wiring)
        name = re.sub(r"[^A-Za-z0-9_-]", "-", f"s3-events-{function.function_name}")[:80]
        self._queue_url = self._sqs.create_queue(QueueName=name)["QueueUrl"]
        self._caught_up = True

    @property
    def drained(self) -> bool:
        return self._caught_up and not self._invocations.pending

    def seconds_until_due(self) -> float | None:
        return self._invocations.seconds_until_due()

    def prepare(self) -> None:
        """Wire the bucket (provisioned before the plumbing starts) to the queue, keeping every
        other notification on it, so uploads made from now on are delivered."""
        self._wanted["QueueArn"] = self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        with self._wiring.lock:  # two handlers on one bucket must not drop each other's entry
            current = self._s3.get_bucket_notification_configuration(Bucket=self._bucket)
            configuration = {kind: current[kind] for kind in _NOTIFICATION_KINDS if kind in current}
            configuration["QueueConfigurations"] = [
                entry
                for entry in current.get("QueueConfigurations", [])
                if entry.get("Id") != self._wanted["Id"]
            ] + [self._wanted]
            self._s3.put_bucket_notification_configuration(
                Bucket=self._bucket, NotificationConfiguration=configuration
            )
        log.info("s3 notifications wired", extra={"bucket": self._bucket, **self._wanted})

    def poll(self) -> bool:
        # Never long-poll: the embedded AWS serves one request at a time, and a waiting
        # ReceiveMessage would hold every other client up.
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        self._caught_up = not messages
        for message in messages:
            # s3:TestEvent, sent when the configuration is written, has no records: Lambda
            # never sees it. S3 invokes Lambda once per event record.
            for record in json.loads(message["Body"]).get("Records", []):
                self._invocations.submit({"Records": [lambda_s3_record(record)]})
        if messages:
            # S3 hands the event to Lambda's asynchronous queue and is done with it; retries
            # happen in that queue, so the message goes now.
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ]
            self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
        return self._invocations.invoke_due() or bool(messages)
