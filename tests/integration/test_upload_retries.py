"""The resize function under failure: whatever step an invocation fails at, Lambda's retry of
the S3 event processes the upload, and after the last retry the media is failed with a
reason, never pending for ever.

Faults are AWS's own answers (a throttled DynamoDB write, an S3 slow-down) injected into
botocore (``tests.support.AwsFaults``); the function is the real handler, called as Lambda
calls it, and Lambda's retries are deliveries of the same event (or, at the end, the local
stack's event plumbing, which retries as Lambda does).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from chalice.test import Client

from local.lambda_runtime import LambdaContext
from tests.support import Account, AwsFaults, load_event, small_jpeg

RENDITIONS = {"thumb", "small", "medium", "large"}


def settings():  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings

    return get_settings()


def uploaded(client: Client, owner: Account) -> tuple[str, dict[str, Any]]:
    """A media id whose file is in S3, and the S3 event that tells the resize function."""
    data = small_jpeg()
    created = client.http.post(
        "/media/uploads",
        headers=owner.auth,
        body=json.dumps({"content_type": "image/jpeg", "size_bytes": len(data), "purpose": "post"}),
    )
    assert created.status_code == 201, created.body
    upload = created.json_body
    sent = requests.post(
        upload["upload"]["url"],
        data=upload["upload"]["fields"],
        files={"file": ("photo.jpg", data)},
        timeout=30,
    )
    assert sent.status_code == 204, sent.text
    event = copy.deepcopy(load_event("s3ObjectCreated.json"))
    record = event["Records"][0]["s3"]
    bucket = settings().media_bucket
    record["bucket"]["name"], record["bucket"]["arn"] = bucket, f"arn:aws:s3:::{bucket}"
    record["object"]["key"], record["object"]["size"] = upload["upload"]["fields"]["key"], len(data)
    return upload["media_id"], event


def deliver(app, event: dict, timeout_seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """One invocation of the resize function, as Lambda makes it (a fresh context each)."""
    app.handler_map["process_upload"](
        event, LambdaContext("process_upload", timeout_seconds=timeout_seconds)
    )


def media(client: Client, owner: Account, media_id: str) -> dict[str, Any]:
    read = client.http.get(f"/media/{media_id}", headers=owner.auth)
    assert read.status_code == 200, read.body
    return read.json_body


@pytest.fixture
def faults(embedded_aws) -> Iterator[AwsFaults]:  # type: ignore[no-untyped-def]
    with AwsFaults() as injected:
        yield injected


# Each step of the resize function that talks to AWS, as (operation, what else the request
# names): reading the media item, taking the lease, reading the original, storing a
# rendition, recording the result.
STEPS = {
    "reading the media item": ("GetItem", ""),
    "taking the lease": ("UpdateItem", '"processing"'),
    "reading the original": ("GetObject", ""),
    "storing a rendition": ("PutObject", ""),
    "marking it ready": ("UpdateItem", '"ready"'),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_an_upload_whose_invocation_failed_is_processed_by_lambdas_retry(
    chalice_app, client: Client, make_account, faults: AwsFaults, step: str
) -> None:  # type: ignore[no-untyped-def]
    owner = make_account("owner")
    media_id, event = uploaded(client, owner)
    operation, only_if = STEPS[step]
    faults.fail(operation, matching=media_id, only_if=only_if)

    # The first invocation fails: Lambda sees the error, and retries the event.
    with pytest.raises(Exception):  # noqa: B017 - whatever the step raises, Lambda retries
        deliver(chalice_app, event)
    assert faults.failed == [operation]
    assert media(client, owner, media_id)["status"] == "pending"

    deliver(chalice_app, event)  # Lambda's retry, a minute later on AWS

    ready = media(client, owner, media_id)
    assert ready["status"] == "ready", ready
    assert set(ready["renditions"]) == RENDITIONS


def test_a_lease_it_could_not_give_back_ends_with_its_invocation(
    chalice_app, client: Client, make_account, faults: AwsFaults
) -> None:  # type: ignore[no-untyped-def]
    # Given an invocation that fails and cannot record anything either (as one that timed out
    # records nothing): its lease lasts as long as the invocation could, here 2 s.
    owner = make_account("owner")
    media_id, event = uploaded(client, owner)
    faults.fail("UpdateItem", matching=media_id, only_if='"ready"')
    # and giving the lease back
    faults.fail("UpdateItem", matching=media_id, only_if=("REMOVE", '"pending"'))
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017
        deliver(chalice_app, event, timeout_seconds=2)
    assert faults.failed[0] == "UpdateItem"

    # While it could still be running, another delivery leaves the upload to it; once it
    # could not be, the next delivery takes over and finishes the upload.
    deadline = time.monotonic() + 10
    while media(client, owner, media_id)["status"] == "pending":
        assert time.monotonic() < deadline, "the lease outlived its invocation"
        deliver(chalice_app, event)
        time.sleep(0.1)
    assert time.monotonic() - started >= 1.5
    assert media(client, owner, media_id)["status"] == "ready"


def test_after_the_last_retry_the_upload_is_failed_with_a_reason(
    chalice_app, client: Client, make_account, faults: AwsFaults
) -> None:  # type: ignore[no-untyped-def]
    owner = make_account("owner")
    media_id, event = uploaded(client, owner)
    faults.fail("GetObject", matching=media_id, times=3)

    # The first invocation and Lambda's two retries all fail.
    for _ in range(3):
        with pytest.raises(Exception):  # noqa: B017
            deliver(chalice_app, event)

    failed = media(client, owner, media_id)
    assert failed["status"] == "failed", failed
    assert "could not be processed" in failed["reason"]
    assert failed["renditions"] == {}
    # Failed is final: a stray further delivery changes nothing.
    deliver(chalice_app, event)
    assert media(client, owner, media_id)["status"] == "failed"


def test_an_upload_whose_last_attempt_died_unrecorded_reads_as_failed(
    chalice_app, client: Client, make_account, faults: AwsFaults
) -> None:  # type: ignore[no-untyped-def]
    # Given two failed attempts, then a last one that fails and cannot record it (a timeout
    # records nothing at all).
    owner = make_account("owner")
    media_id, event = uploaded(client, owner)
    faults.fail("GetObject", matching=media_id, times=3)
    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017
            deliver(chalice_app, event)
    faults.fail("UpdateItem", matching=media_id, only_if='"failed"')
    with pytest.raises(Exception):  # noqa: B017
        deliver(chalice_app, event, timeout_seconds=1)

    # Then once that invocation could no longer be running, the media reads as failed.
    deadline = time.monotonic() + 10
    while (read := media(client, owner, media_id))["status"] == "pending":
        assert time.monotonic() < deadline, "pending after its last attempt ended"
        time.sleep(0.1)
    assert read["status"] == "failed"
    assert "could not be processed" in read["reason"]


def test_lambdas_own_retries_finish_a_throttled_upload_or_fail_it_after_the_last(
    chalice_app, client: Client, make_account, faults: AwsFaults
) -> None:  # type: ignore[no-untyped-def]
    """Through the local stack's plumbing: S3's notification, Lambda's two retries of an
    asynchronous invocation, then its dead letters (on AWS, upload-failures)."""
    from local.event_plumbing import EventPlumbing

    owner = make_account("owner")
    with EventPlumbing(chalice_app, fire_schedules_on_timer=False) as plumbing:
        assert plumbing.wait_until_idle(timeout=60)
        throttled_once, _ = uploaded_by_client(client, owner, faults, times=1)
        never, key = uploaded_by_client(client, owner, faults, times=3)
        assert plumbing.wait_until_idle(timeout=60)

        assert media(client, owner, throttled_once)["status"] == "ready"
        failed = media(client, owner, never)
        assert failed["status"] == "failed"
        assert "could not be processed" in failed["reason"]
        lost = [
            letter
            for letter in plumbing.dead_letters
            if letter.function_name.endswith("process_upload")
            and letter.records[0]["s3"]["object"]["key"] == key
        ]
        assert len(lost) == 1  # ops see it in upload-failures


def uploaded_by_client(
    client: Client, owner: Account, faults: AwsFaults, times: int
) -> tuple[str, str]:
    """Upload as a client does; the first ``times`` reads of the original by the resize
    function fail."""
    data = small_jpeg()
    created = client.http.post(
        "/media/uploads",
        headers=owner.auth,
        body=json.dumps({"content_type": "image/jpeg", "size_bytes": len(data), "purpose": "post"}),
    ).json_body
    faults.fail("GetObject", matching=created["media_id"], times=times)
    sent = requests.post(
        created["upload"]["url"],
        data=created["upload"]["fields"],
        files={"file": ("photo.jpg", data)},
        timeout=30,
    )
    assert sent.status_code == 204, sent.text
    return created["media_id"], created["upload"]["fields"]["key"]
