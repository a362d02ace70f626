"""The local stack's event plumbing delivers to a Chalice app's handlers as Lambda would.

A small app is built per test against resources in the embedded AWS (moto's server); its
handlers record what they receive and fail when a test tells them to.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamModel,
    EventBridgeModel,
    S3Model,
    SqsModel,
)
from chalice import Chalice, Cron, Rate

from local.embedded_aws import EmbeddedAws
from local.event_plumbing import EventPlumbing
from local.plumbing.schedules import UnsupportedScheduleExpression, rate_period

Behaviour = Callable[[Any], Any]


# --- the embedded AWS and the resources a test's app uses -----------------------------------


@pytest.fixture(scope="module")
def aws() -> Iterator[EmbeddedAws]:
    saved_environment = dict(os.environ)
    embedded = EmbeddedAws(port=0).start()
    embedded.export_environment()
    yield embedded
    embedded.stop()
    os.environ.clear()
    os.environ.update(saved_environment)


@pytest.fixture(scope="module")
def clients(aws: EmbeddedAws) -> SimpleNamespace:
    return SimpleNamespace(
        dynamodb=boto3.client("dynamodb"),
        s3=boto3.client("s3"),
        sqs=boto3.client("sqs"),
    )


@dataclass(frozen=True)
class Resources:
    table: str
    stream_arn: str
    bucket: str
    queue_name: str
    queue_url: str
    suffix: str


def create_table_with_stream(clients: SimpleNamespace, table: str) -> str:
    description = clients.dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(description["TableDescription"]["LatestStreamArn"])


@pytest.fixture
def resources(clients: SimpleNamespace) -> Resources:
    # Fresh names per test: nothing one test writes can reach another test's handlers.
    suffix = uuid.uuid4().hex[:8]
    table = f"posts-{suffix}"
    stream_arn = create_table_with_stream(clients, table)
    bucket = f"media-{suffix}"
    clients.s3.create_bucket(Bucket=bucket)
    queue_name = f"jobs-{suffix}"
    queue_url = clients.sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    return Resources(table, stream_arn, bucket, queue_name, queue_url, suffix)


# --- the app under plumbing -----------------------------------------------------------------


@dataclass
class Received:
    stream_batches: list[list[dict[str, Any]]] = field(default_factory=list)
    uploads: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    avatars: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    job_batches: list[list[dict[str, Any]]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)

    def stream_keys(self) -> list[list[str]]:
        return [
            [record["dynamodb"]["Keys"]["pk"]["S"] for record in batch]
            for batch in self.stream_batches
        ]

    def job_bodies(self) -> list[list[str]]:
        return [[record["body"] for record in batch] for batch in self.job_batches]


@pytest.fixture
def received() -> Received:
    return Received()


def build_app(
    resources: Resources,
    received: Received,
    *,
    stream_batch_size: int = 10,
    starting_position: str = "LATEST",
    stream_behaviour: Behaviour | None = None,
    upload_behaviour: Behaviour | None = None,
    job_behaviour: Behaviour | None = None,
    schedule: str | Rate | Cron = "rate(5 minutes)",
) -> Chalice:
    app = Chalice(app_name="plumbing-test")

    @app.on_dynamodb_record(
        stream_arn=resources.stream_arn,
        batch_size=stream_batch_size,
        starting_position=starting_position,
    )
    def on_post_change(event: Any) -> Any:
        received.stream_batches.append(event.to_dict()["Records"])
        return stream_behaviour(event) if stream_behaviour else None

    @app.on_s3_event(bucket=resources.bucket, prefix="uploads/", suffix=".jpg")
    def on_upload(event: Any) -> Any:
        received.uploads.append((event.key, event.to_dict()))
        return upload_behaviour(event) if upload_behaviour else None

    @app.on_s3_event(bucket=resources.bucket, prefix="avatars/")
    def on_avatar(event: Any) -> None:
        received.avatars.append((event.key, event.to_dict()))

    @app.on_sqs_message(queue=resources.queue_name, batch_size=10)
    def on_job(event: Any) -> Any:
        received.job_batches.append(event.to_dict()["Records"])
        return job_behaviour(event) if job_behaviour else None

    @app.schedule(schedule)
    def expire_stories(event: Any) -> dict[str, int]:
        received.schedules.append(event.to_dict())
        return {"expired": 0}

    return app


@pytest.fixture
def start_plumbing(aws: EmbeddedAws) -> Iterator[Callable[..., EventPlumbing]]:
    started: list[EventPlumbing] = []

    def start(app: Chalice, **options: Any) -> EventPlumbing:
        settings = {
            "poll_interval_seconds": 0.02,
            "retry_backoff_seconds": 0.01,
            "fire_schedules_on_timer": False,
            **options,
        }
        plumbing = EventPlumbing(app, **settings).start()
        started.append(plumbing)
        return plumbing

    yield start
    for plumbing in started:
        plumbing.stop()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.01)


def fails_first_call(error: str = "downstream throttled") -> Behaviour:
    calls = itertools.count()

    def behaviour(event: Any) -> None:
        if next(calls) == 0:
            raise RuntimeError(error)

    return behaviour


def put_posts(clients: SimpleNamespace, table: str, keys: list[str]) -> None:
    # One BatchWriteItem: the records land in the stream together, so they arrive as one batch.
    clients.dynamodb.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": key}}}} for key in keys]}
    )


# --- DynamoDB streams -----------------------------------------------------------------------


def test_insert_modify_remove_reach_the_handler_in_order_shaped_as_lambda_events(
    clients, resources, received, start_plumbing
):
    plumbing = start_plumbing(build_app(resources, received))

    item = {"pk": {"S": "post-1"}, "caption": {"S": "sunset"}, "thumb": {"B": b"\x89PNG"}}
    clients.dynamodb.put_item(TableName=resources.table, Item=item)
    clients.dynamodb.update_item(
        TableName=resources.table,
        Key={"pk": {"S": "post-1"}},
        UpdateExpression="SET caption = :caption",
        ExpressionAttributeValues={":caption": {"S": "sunrise"}},
    )
    clients.dynamodb.delete_item(TableName=resources.table, Key={"pk": {"S": "post-1"}})
    assert plumbing.wait_until_idle(timeout=5)

    records = [record for batch in received.stream_batches for record in batch]
    assert [record["eventName"] for record in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = records
    for record in records:
        assert set(record) == {
            "eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
            "eventSourceARN",
        }  # fmt: skip
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventSourceARN"] == resources.stream_arn
        assert record["awsRegion"] == "us-east-1"
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert record["dynamodb"]["Keys"] == {"pk": {"S": "post-1"}}
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    common = {
        "ApproximateCreationDateTime",
        "Keys",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    }
    assert set(insert["dynamodb"]) == common | {"NewImage"}
    assert set(modify["dynamodb"]) == common | {"NewImage", "OldImage"}
    assert set(remove["dynamodb"]) == common | {"OldImage"}
    assert insert["dynamodb"]["NewImage"]["thumb"] == {"B": base64.b64encode(b"\x89PNG").decode()}
    assert modify["dynamodb"]["OldImage"]["caption"] == {"S": "sunset"}
    assert modify["dynamodb"]["NewImage"]["caption"] == {"S": "sunrise"}
    sequence_numbers = [int(record["dynamodb"]["SequenceNumber"]) for record in records]
    assert sequence_numbers == sorted(sequence_numbers)
    # The event is plain JSON, and Powertools' parser model accepts it.
    DynamoDBStreamModel.model_validate(json.loads(json.dumps({"Records": records})))


def test_records_keep_flowing_after_a_failed_transaction_on_the_table(
    clients, resources, received, start_plumbing
):
    # moto undoes a failed transaction by restoring a copy of the table, stream shard and
    # all; a reader holding an iterator into the old shard would never see another record.
    plumbing = start_plumbing(build_app(resources, received))
    put_posts(clients, resources.table, ["before"])
    assert plumbing.wait_until_idle(timeout=5)
    with pytest.raises(clients.dynamodb.exceptions.TransactionCanceledException):
        clients.dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": resources.table,
                        "Item": {"pk": {"S": "before"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
        )
    put_posts(clients, resources.table, ["after"])
    assert plumbing.wait_until_idle(timeout=5)
    assert [key for batch in received.stream_keys() for key in batch] == ["before", "after"]


def test_batches_hold_at_most_batch_size_records_in_stream_order(
    clients, resources, received, start_plumbing
):
    keys = [f"post-{number:02}" for number in range(10)]
    put_posts(clients, resources.table, keys)
    app = build_app(resources, received, stream_batch_size=4, starting_position="TRIM_HORIZON")

    plumbing = start_plumbing(app)

    assert plumbing.wait_until_idle(timeout=5)
    assert [len(batch) for batch in received.stream_batches] == [4, 4, 2]
    assert [key for batch in received.stream_keys() for key in batch] == keys


def test_a_plumbing_started_again_resumes_where_the_mapping_checkpointed(
    clients, resources, received, start_plumbing
):
    # A mapping keeps its position while it is disabled; TRIM_HORIZON is where it begins once.
    app = build_app(resources, received, starting_position="TRIM_HORIZON")
    first = start_plumbing(app)
    put_posts(clients, resources.table, ["first-a", "first-b"])
    assert first.wait_until_idle(timeout=5)
    first.stop()
    put_posts(clients, resources.table, ["while-stopped"])

    again = start_plumbing(build_app(resources, received, starting_position="TRIM_HORIZON"))

    assert again.wait_until_idle(timeout=5)
    assert received.stream_keys() == [["first-a", "first-b"], ["while-stopped"]]


def test_latest_starting_position_skips_records_written_before_start(
    clients, resources, received, start_plumbing
):
    put_posts(clients, resources.table, ["before-start"])
    plumbing = start_plumbing(build_app(resources, received, starting_position="LATEST"))

    put_posts(clients, resources.table, ["after-start"])

    assert plumbing.wait_until_idle(timeout=5)
    assert received.stream_keys() == [["after-start"]]


def test_a_handler_that_raises_gets_the_same_batch_again_then_succeeds(
    clients, resources, received, start_plumbing
):
    app = build_app(resources, received, stream_behaviour=fails_first_call())
    plumbing = start_plumbing(app)

    put_posts(clients, resources.table, ["post-1", "post-2"])

    assert plumbing.wait_until_idle(timeout=5)
    first, retry = received.stream_batches
    assert [record["eventID"] for record in retry] == [record["eventID"] for record in first]
    assert received.stream_keys() == [["post-1", "post-2"], ["post-1", "post-2"]]
    assert plumbing.dead_letters == []


def test_a_reported_item_failure_redelivers_from_the_failed_record_only(
    clients, resources, received, start_plumbing
) -> None:
    # Given a Powertools batch handler that fails post-3 the first time it sees it
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    failed_once: set[str] = set()

    def fan_out(record: DynamoDBRecord) -> None:
        assert record.dynamodb is not None
        key = record.dynamodb.keys["pk"]
        if key == "post-3" and key not in failed_once:
            failed_once.add(key)
            raise ValueError("fan-out failed")

    def handle(event: Any) -> Any:
        return process_partial_response(
            event=event.to_dict(),
            record_handler=fan_out,
            processor=processor,
            context=event.context,
        )

    plumbing = start_plumbing(build_app(resources, received, stream_behaviour=handle))

    # When five posts arrive in one batch
    put_posts(clients, resources.table, ["post-1", "post-2", "post-3", "post-4", "post-5"])

    # Then the next batch starts at post-3: post-1 and post-2 are checkpointed
    assert plumbing.wait_until_idle(timeout=5)
    assert received.stream_keys() == [
        ["post-1", "post-2", "post-3", "post-4", "post-5"],
        ["post-3", "post-4", "post-5"],
    ]
    assert plumbing.dead_letters == []


@pytest.mark.parametrize(
    "unusable_failures",
    [
        [{"itemIdentifier": "not-a-sequence-number-in-this-batch"}],
        [{"itemIdentifier": ""}],
        [{"id": "wrong-key"}],
    ],
)
def test_an_unusable_item_failure_fails_the_whole_batch(
    clients, resources, received, start_plumbing, unusable_failures
):
    def report_unusable_failure(event: Any) -> Any:
        return {"batchItemFailures": unusable_failures}

    app = build_app(resources, received, stream_behaviour=report_unusable_failure)
    plumbing = start_plumbing(app, max_retry_attempts=1)

    put_posts(clients, resources.table, ["post-1", "post-2"])

    assert plumbing.wait_until_idle(timeout=5)
    assert received.stream_keys() == [["post-1", "post-2"], ["post-1", "post-2"]]
    (dead_letter,) = plumbing.dead_letters
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in dead_letter.records] == [
        "post-1",
        "post-2",
    ]
    assert dead_letter.error == "handler returned unusable batchItemFailures"


def raise_on_poison(event: Any) -> None:
    if any(record.keys["pk"]["S"] == "poison" for record in event):
        raise ValueError("post can't be parsed")


def test_exhausted_retries_dead_letter_the_batch_and_the_shard_moves_on(
    clients, resources, received, start_plumbing
):
    app = build_app(resources, received, stream_behaviour=raise_on_poison)
    plumbing = start_plumbing(app, max_retry_attempts=1)

    put_posts(clients, resources.table, ["poison"])
    assert plumbing.wait_until_idle(timeout=5)
    put_posts(clients, resources.table, ["healthy"])
    assert plumbing.wait_until_idle(timeout=5)

    # One attempt and one retry, then the shard moves on to the next record.
    assert received.stream_keys() == [["poison"], ["poison"], ["healthy"]]
    (dead_letter,) = plumbing.dead_letters
    assert dead_letter.event_source == "aws:dynamodb"
    assert dead_letter.function_name == "plumbing-test-local-on_post_change"
    assert dead_letter.error == "ValueError: post can't be parsed"
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in dead_letter.records] == ["poison"]


# --- S3 notifications -----------------------------------------------------------------------


def test_an_upload_under_the_prefix_invokes_the_handler_and_others_do_not(
    clients, resources, received, start_plumbing
):
    plumbing = start_plumbing(build_app(resources, received))

    clients.s3.put_object(Bucket=resources.bucket, Key="uploads/beach day.jpg", Body=b"jpeg")
    clients.s3.put_object(Bucket=resources.bucket, Key="elsewhere/beach.jpg", Body=b"jpeg")
    clients.s3.put_object(Bucket=resources.bucket, Key="uploads/notes.txt", Body=b"text")
    clients.s3.put_object(Bucket=resources.bucket, Key="avatars/me.png", Body=b"png")

    assert plumbing.wait_until_idle(timeout=5)
    ((key, event),) = received.uploads
    assert key == "uploads/beach day.jpg"
    (record,) = event["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == resources.bucket
    assert record["s3"]["object"]["key"] == "uploads/beach+day.jpg"
    assert record["s3"]["object"]["size"] == 4
    S3Model.model_validate(event)
    # The second handler on the same bucket kept its own notification.
    assert [key for key, _ in received.avatars] == ["avatars/me.png"]


def test_a_presigned_post_upload_invokes_the_handler(clients, resources, received, start_plumbing):
    plumbing = start_plumbing(build_app(resources, received))
    form = clients.s3.generate_presigned_post(resources.bucket, "uploads/from-browser.jpg")

    response = requests.post(
        form["url"], data=form["fields"], files={"file": ("photo.jpg", b"jpeg")}, timeout=5
    )

    assert response.status_code == 204
    assert plumbing.wait_until_idle(timeout=5)
    ((key, event),) = received.uploads
    assert key == "uploads/from-browser.jpg"
    assert event["Records"][0]["eventName"] == "ObjectCreated:Post"


def test_the_bucket_keeps_notifications_the_plumbing_did_not_add(
    clients, resources, received, start_plumbing
):
    audit_queue_url = clients.sqs.create_queue(QueueName=f"audit-{resources.suffix}")["QueueUrl"]
    audit_queue_arn = clients.sqs.get_queue_attributes(
        QueueUrl=audit_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    audit = {"Id": "audit", "QueueArn": audit_queue_arn, "Events": ["s3:ObjectRemoved:*"]}
    clients.s3.put_bucket_notification_configuration(
        Bucket=resources.bucket, NotificationConfiguration={"QueueConfigurations": [audit]}
    )

    start_plumbing(build_app(resources, received))

    configuration = clients.s3.get_bucket_notification_configuration(Bucket=resources.bucket)
    ids = {entry["Id"] for entry in configuration["QueueConfigurations"]}
    assert ids == {"audit", "local-stack-on_upload", "local-stack-on_avatar"}


def test_an_s3_handler_that_keeps_raising_is_retried_twice_then_dead_lettered(
    clients, resources, received, start_plumbing
):
    def always_fail(event: Any) -> None:
        raise RuntimeError("thumbnailer down")

    plumbing = start_plumbing(build_app(resources, received, upload_behaviour=always_fail))

    clients.s3.put_object(Bucket=resources.bucket, Key="uploads/a.jpg", Body=b"jpeg")

    assert plumbing.wait_until_idle(timeout=5)
    assert len(received.uploads) == 3
    (dead_letter,) = plumbing.dead_letters
    assert dead_letter.event_source == "aws:s3"
    assert dead_letter.error == "RuntimeError: thumbnailer down"
    assert dead_letter.records == received.uploads[0][1]["Records"]


# --- SQS ------------------------------------------------------------------------------------


def send_jobs(clients: SimpleNamespace, queue_url: str, bodies: list[str]) -> None:
    clients.sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies)],
    )


def test_sqs_partial_failure_deletes_the_successes_and_redelivers_the_failure(
    clients, resources, received, start_plumbing
) -> None:
    processor = BatchProcessor(event_type=EventType.SQS)
    failed_once: set[str] = set()

    def resize(record: SQSRecord) -> None:
        if record.body == "resize-b" and record.body not in failed_once:
            failed_once.add(record.body)
            raise ValueError("image too large")

    def handle(event: Any) -> Any:
        return process_partial_response(
            event=event.to_dict(), record_handler=resize, processor=processor, context=event.context
        )

    plumbing = start_plumbing(build_app(resources, received, job_behaviour=handle))

    send_jobs(clients, resources.queue_url, ["resize-a", "resize-b", "resize-c"])

    assert plumbing.wait_until_idle(timeout=5)
    assert received.job_bodies() == [["resize-a", "resize-b", "resize-c"], ["resize-b"]]
    SqsModel.model_validate({"Records": received.job_batches[0]})
    retried = received.job_batches[1][0]
    assert retried["attributes"]["ApproximateReceiveCount"] == "2"
    assert retried["eventSourceARN"].endswith(f":{resources.queue_name}")
    counts = clients.sqs.get_queue_attributes(
        QueueUrl=resources.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert counts == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def test_a_failing_message_goes_to_the_queues_redrive_dead_letter_queue(
    clients, resources, received, start_plumbing
):
    dlq_url = clients.sqs.create_queue(QueueName=f"jobs-dlq-{resources.suffix}")["QueueUrl"]
    dlq_arn = clients.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    clients.sqs.set_queue_attributes(
        QueueUrl=resources.queue_url, Attributes={"RedrivePolicy": redrive}
    )

    def always_fail(event: Any) -> None:
        raise RuntimeError("encoder crashed")

    plumbing = start_plumbing(build_app(resources, received, job_behaviour=always_fail))

    send_jobs(clients, resources.queue_url, ["transcode-1"])

    assert plumbing.wait_until_idle(timeout=5)
    assert received.job_bodies() == [["transcode-1"], ["transcode-1"]]
    (moved,) = clients.sqs.receive_message(QueueUrl=dlq_url)["Messages"]
    assert moved["Body"] == "transcode-1"
    # SQS's own dead-letter queue took it, so the plumbing had nothing to give up on.
    assert plumbing.dead_letters == []


def test_a_failing_message_on_a_queue_without_redrive_is_dead_lettered_after_the_retries(
    clients, resources, received, start_plumbing
):
    def always_fail(event: Any) -> None:
        raise RuntimeError("encoder crashed")

    app = build_app(resources, received, job_behaviour=always_fail)
    plumbing = start_plumbing(app, max_retry_attempts=1)

    send_jobs(clients, resources.queue_url, ["transcode-1"])

    assert plumbing.wait_until_idle(timeout=5)
    assert received.job_bodies() == [["transcode-1"], ["transcode-1"]]
    (dead_letter,) = plumbing.dead_letters
    assert dead_letter.event_source == "aws:sqs"
    assert dead_letter.records[0]["body"] == "transcode-1"


# --- schedules ------------------------------------------------------------------------------


def test_run_schedule_fires_the_handler_with_a_scheduled_event(resources, received):
    plumbing = EventPlumbing(build_app(resources, received))

    result = plumbing.run_schedule("expire_stories")

    assert result == {"expired": 0}
    (event,) = received.schedules
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [
        "arn:aws:events:us-east-1:123456789012:rule/plumbing-test-local-expire_stories-event"
    ]
    EventBridgeModel.model_validate(event)


def test_run_schedule_names_the_schedules_when_asked_for_an_unknown_one(resources, received):
    plumbing = EventPlumbing(build_app(resources, received))

    with pytest.raises(KeyError, match="expire_stories"):
        plumbing.run_schedule("no_such_schedule")


def test_a_rate_schedule_fires_on_a_scaled_clock(resources, received, start_plumbing):
    app = build_app(resources, received, schedule=Rate(1, unit=Rate.MINUTES))

    # 600 scheduled seconds per real second: a minute passes every tenth of a second.
    start_plumbing(app, fire_schedules_on_timer=True, schedule_time_scale=600)

    wait_until(lambda: len(received.schedules) >= 2, timeout=5, what="two scheduled events")
    first, second = (
        datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ") for event in received.schedules[:2]
    )
    assert (second - first).total_seconds() == 60


def test_a_cron_schedule_is_rejected_at_start(resources, received):
    app = build_app(resources, received, schedule=Cron(0, 12, "*", "*", "?", "*"))

    with pytest.raises(UnsupportedScheduleExpression, match="rate"):
        EventPlumbing(app).start()


@pytest.mark.parametrize(
    ("expression", "period_seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(15 minutes)", 900),
        ("rate(1 hour)", 3600),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("rate(3 days)", 259200),
        (Rate(5, unit=Rate.MINUTES), 300),
    ],
)
def test_rate_expressions_parse_to_their_period(expression, period_seconds):
    assert rate_period(expression) == timedelta(seconds=period_seconds)


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(2 weeks)", "every 5 minutes"],
)
def test_expressions_eventbridge_rejects_are_rejected(expression):
    with pytest.raises(UnsupportedScheduleExpression):
        rate_period(expression)


# --- idleness and shutdown ------------------------------------------------------------------


def test_wait_until_idle_waits_for_work_a_handler_causes_elsewhere(
    clients, resources, received, start_plumbing
):
    # Given a stream handler that queues a job for the SQS handler
    def queue_a_job(event: Any) -> None:
        for record in event:
            clients.sqs.send_message(
                QueueUrl=resources.queue_url, MessageBody=f"notify-{record.keys['pk']['S']}"
            )

    plumbing = start_plumbing(build_app(resources, received, stream_behaviour=queue_a_job))

    put_posts(clients, resources.table, ["post-1"])

    # Then idle means the job has been handled too
    assert plumbing.wait_until_idle(timeout=5)
    assert received.job_bodies() == [["notify-post-1"]]


def test_wait_until_idle_is_false_while_an_invocation_is_in_flight(
    clients, resources, received, start_plumbing
):
    release = threading.Event()
    app = build_app(resources, received, stream_behaviour=lambda event: release.wait(5))
    plumbing = start_plumbing(app)
    put_posts(clients, resources.table, ["post-1"])
    wait_until(lambda: len(received.stream_batches) == 1, what="the handler to be invoked")

    assert plumbing.wait_until_idle(timeout=0.2) is False

    release.set()
    assert plumbing.wait_until_idle(timeout=5) is True


def test_stop_returns_promptly_and_leaves_no_poller_running(resources, received, aws):
    plumbing = EventPlumbing(build_app(resources, received), poll_interval_seconds=0.5).start()
    threads = [thread for thread in threading.enumerate() if thread.name.startswith("plumbing-")]
    assert threads

    started = time.monotonic()
    plumbing.stop()

    assert time.monotonic() - started < 1.0
    assert not any(thread.is_alive() for thread in threads)


def test_an_app_without_event_sources_is_idle_at_once(aws):
    plumbing = EventPlumbing(Chalice(app_name="routes-only")).start()
    try:
        assert plumbing.plumbed_handlers == []
        assert plumbing.wait_until_idle(timeout=1) is True
    finally:
        plumbing.stop()
