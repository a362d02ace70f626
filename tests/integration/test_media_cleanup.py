"""A media's objects (its original and four renditions) live exactly as long as its item:
whatever removes the item (a deleted post releasing it, TTL expiring media never attached, a
story's purge, a replaced avatar) is followed by the media stream's REMOVE record, whose
consumer deletes the objects.

moto never runs TTL, so TTL's deletion is made here as DynamoDB makes it: the item deleted
and a REMOVE record signed by ``dynamodb.amazonaws.com`` (events/dynamodbStreamMediaTtlRemove.json)
handed to the media stream's function.
"""

from __future__ import annotations

import copy
import json

import boto3
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
from chalice.test import Client

from local.event_plumbing import EventPlumbing
from local.lambda_runtime import LambdaContext
from tests.support import Account, load_event

TTL_REMOVE_SAMPLE = "dynamodbStreamMediaTtlRemove.json"


def settings():  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings

    return get_settings()


def objects_of(media_id: str, owner: Account) -> list[str]:
    s3, bucket = boto3.client("s3"), settings().media_bucket
    keys = []
    for prefix in (f"uploads/{owner.user_id}/{media_id}", f"renditions/{media_id}/"):
        keys += [
            o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        ]
    return keys


def media_item(media_id: str) -> dict | None:
    return (
        boto3.client("dynamodb")
        .get_item(
            TableName=settings().media_table, Key={"media_id": {"S": media_id}}, ConsistentRead=True
        )
        .get("Item")
    )


def test_the_media_ttl_remove_sample_matches_the_powertools_model() -> None:
    parsed = DynamoDBStreamModel.model_validate(load_event(TTL_REMOVE_SAMPLE))
    record = parsed.Records[0]
    assert record.eventName == "REMOVE"
    assert record.userIdentity is not None
    assert (record.userIdentity.type, record.userIdentity.principalId) == (
        "Service",
        "dynamodb.amazonaws.com",
    )


def test_deleting_a_post_deletes_its_photos_originals_and_renditions(
    chalice_app, client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    photos = [make_ready_media(author), make_ready_media(author)]
    created = client.http.post(
        "/posts", headers=author.auth, body=json.dumps({"media_ids": photos, "caption": "bye"})
    )
    assert created.status_code == 201, created.body
    assert [len(objects_of(photo, author)) for photo in photos] == [5, 5]

    with EventPlumbing(chalice_app, fire_schedules_on_timer=False) as plumbing:
        deleted = client.http.delete(f"/posts/{created.json_body['post_id']}", headers=author.auth)
        assert deleted.status_code == 204
        # The posts stream's REMOVE releases the photos; the media stream's REMOVEs delete
        # their objects.
        assert plumbing.wait_until_idle(timeout=60)

    assert [objects_of(photo, author) for photo in photos] == [[], []]
    assert [media_item(photo) for photo in photos] == [None, None]
    for photo in photos:
        assert client.http.get(f"/media/{photo}", headers=author.auth).status_code == 404


def test_media_never_attached_is_deleted_with_its_record_when_ttl_removes_it(
    chalice_app, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    owner = make_account("owner")
    media_id = make_ready_media(owner)
    assert len(objects_of(media_id, owner)) == 5
    old_image = media_item(media_id)
    assert old_image is not None and "expires_at" in old_image  # never attached

    # TTL deletes the item; its REMOVE record, signed by DynamoDB, reaches the media stream.
    boto3.client("dynamodb").delete_item(
        TableName=settings().media_table, Key={"media_id": {"S": media_id}}
    )
    assert len(objects_of(media_id, owner)) == 5  # nothing else deletes them
    event = copy.deepcopy(load_event(TTL_REMOVE_SAMPLE))
    record = event["Records"][0]
    record["dynamodb"]["Keys"] = {"media_id": {"S": media_id}}
    record["dynamodb"]["OldImage"] = old_image
    handler = chalice_app.handler_map["media_stream"]

    assert handler(event, LambdaContext("media_stream")) == {"batchItemFailures": []}
    assert objects_of(media_id, owner) == []
    # Redelivered (streams deliver at least once): nothing left to do, nothing fails.
    assert handler(event, LambdaContext("media_stream")) == {"batchItemFailures": []}


def test_released_media_goes_with_its_objects_and_only_its_owner_releases_it(
    chalice_app, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    """``media.cleanup.release_media``: how anything done with a media lets go of it (a
    deleted post, a purged story, a replaced avatar)."""
    from chalicelib.media import cleanup

    owner, other = make_account("owner"), make_account("other")
    media_id = make_ready_media(owner, "avatar")

    with EventPlumbing(chalice_app, fire_schedules_on_timer=False) as plumbing:
        assert cleanup.release_media(media_id, other.user_id) is False
        assert plumbing.wait_until_idle(timeout=60)
        assert len(objects_of(media_id, owner)) == 5 and media_item(media_id) is not None

        assert cleanup.release_media(media_id, owner.user_id) is True
        assert cleanup.release_media(media_id, owner.user_id) is False  # already gone
        assert plumbing.wait_until_idle(timeout=60)

    assert objects_of(media_id, owner) == []
    assert media_item(media_id) is None
