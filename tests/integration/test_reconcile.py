"""``make reconcile``: objects in the media bucket that no media owns are reported, and
deleted only when asked; what a post still shows, and keys outside the layout, never are.
Run against the embedded AWS, provisioned as stage ``test`` by the real provisioner."""

from __future__ import annotations

import uuid

import boto3
import pytest
from chalice.test import Client

from infrastructure.reconcile import main as reconcile
from tests.support import create_post, objects_of_media


def settings():  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings

    return get_settings()


def keys_of(media_id: str) -> list[str]:
    return objects_of_media(boto3.client("s3"), media_id, settings().media_bucket)


def forget_item(media_id: str) -> None:
    """Delete a media item and nothing else, as a lost stream record would leave it."""
    boto3.client("dynamodb").delete_item(
        TableName=settings().media_table, Key={"media_id": {"S": media_id}}
    )


@pytest.fixture
def stray_key(embedded_aws):  # type: ignore[no-untyped-def]
    key = f"stray/{uuid.uuid4().hex}.txt"
    s3 = boto3.client("s3")
    s3.put_object(Bucket=settings().media_bucket, Key=key, Body=b"not a photo")
    yield key
    s3.delete_object(Bucket=settings().media_bucket, Key=key)


def test_reconcile_reports_orphaned_media_objects_and_deletes_them_only_when_asked(
    client: Client, make_account, make_ready_media, stray_key: str, capsys
) -> None:  # type: ignore[no-untyped-def]
    owner = make_account("owner")
    kept = make_ready_media(owner)
    # Objects whose item went without them.
    lost = make_ready_media(owner)
    forget_item(lost)
    # Objects under the layout with no item ever.
    never = uuid.uuid4().hex
    s3 = boto3.client("s3")
    for key in (f"uploads/{owner.user_id}/{never}", f"renditions/{never}/thumb.jpg"):
        s3.put_object(Bucket=settings().media_bucket, Key=key, Body=b"x")
    # A post still shows this one, though its item is gone.
    shown = make_ready_media(owner)
    create_post(client, owner, shown, caption="still here")
    forget_item(shown)

    capsys.readouterr()  # the app's own log lines so far
    assert reconcile(["--stage", "test"]) == 0
    report = capsys.readouterr().out
    orphans, _, rest = report.partition("shown without a media item")
    assert lost in orphans and never in orphans
    assert kept not in report
    assert shown in rest and shown not in orphans
    assert stray_key in rest
    assert "DELETE=1" in report
    assert (len(keys_of(lost)), len(keys_of(never))) == (5, 2)  # reporting deletes nothing

    assert reconcile(["--stage", "test", "--delete"]) == 0
    assert "deleted" in capsys.readouterr().out
    assert keys_of(lost) == [] and keys_of(never) == []
    assert len(keys_of(kept)) == 5 and len(keys_of(shown)) == 5
    assert s3.get_object(Bucket=settings().media_bucket, Key=stray_key)["Body"].read()

    # Nothing left to do: a second run finds no orphans of these.
    assert reconcile(["--stage", "test"]) == 0
    again = capsys.readouterr().out.partition("shown without a media item")[0]
    assert lost not in again and never not in again


def test_reconcile_on_a_stage_that_does_not_exist_says_so(embedded_aws, capsys) -> None:  # type: ignore[no-untyped-def]
    assert reconcile(["--stage", "nosuchstage"]) == 1
    assert "nosuchstage" in capsys.readouterr().err
