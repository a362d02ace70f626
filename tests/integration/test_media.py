"""Uploads through the presigned POST to moto's S3, and the resize function run as Lambda
runs it, on an AWS-shaped S3 event."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities.parser.models import S3Model
from chalice.test import Client
from PIL import Image

from local.lambda_runtime import LambdaContext
from tests.support import Account, load_event, png_header_only


def jpeg(width: int = 1600, height: int = 1200) -> bytes:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def create_upload(client: Client, account: Account, **overrides: Any) -> Any:
    payload = {
        "content_type": "image/jpeg",
        "size_bytes": 5_000_000,
        "purpose": "post",
        **overrides,
    }
    return client.http.post("/media/uploads", headers=account.auth, body=json.dumps(payload))


def post_file(upload: dict, data: bytes) -> requests.Response:
    return requests.post(
        upload["upload"]["url"],
        data=upload["upload"]["fields"],
        files={"file": ("photo", data)},
        timeout=30,
    )


def s3_event(bucket: str, key: str, size: int) -> dict:
    event = copy.deepcopy(load_event("s3ObjectCreated.json"))
    record = event["Records"][0]["s3"]
    record["bucket"]["name"], record["bucket"]["arn"] = bucket, f"arn:aws:s3:::{bucket}"
    record["object"]["key"], record["object"]["size"] = key, size
    return event


def deliver(app, event: dict) -> Any:  # type: ignore[no-untyped-def]
    return app.handler_map["process_upload"](event, LambdaContext("process_upload"))


def settings():  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings

    return get_settings()


def keys_under(prefix: str) -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=settings().media_bucket, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_the_sample_event_matches_the_powertools_model() -> None:
    S3Model.model_validate(load_event("s3ObjectCreated.json"))


def test_an_upload_becomes_four_fetchable_renditions(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    owner = make_account("owner")
    data = jpeg()
    created = create_upload(client, owner, size_bytes=len(data))
    assert created.status_code == 201
    upload = created.json_body
    key = upload["upload"]["fields"]["key"]
    assert key == f"uploads/{owner.user_id}/{upload['media_id']}"
    assert upload["expires_in"] > 0

    pending = client.http.get(f"/media/{upload['media_id']}", headers=owner.auth).json_body
    assert (pending["status"], pending["renditions"]) == ("pending", {})

    assert post_file(upload, data).status_code == 204
    deliver(chalice_app, s3_event(settings().media_bucket, key, len(data)))

    ready = client.http.get(f"/media/{upload['media_id']}", headers=owner.auth).json_body
    assert ready["status"] == "ready"
    assert (ready["width"], ready["height"]) == (1600, 1200)
    assert set(ready["renditions"]) == {"thumb", "small", "medium", "large"}
    for name, rendition in ready["renditions"].items():
        fetched = requests.get(rendition["url"], timeout=10)
        assert fetched.status_code == 200, name
        image = Image.open(io.BytesIO(fetched.content))
        assert image.format == "JPEG"
        assert image.size == (rendition["width"], rendition["height"])
    assert ready["renditions"]["thumb"]["width"] == ready["renditions"]["thumb"]["height"] == 150
    assert ready["renditions"]["large"]["width"] == 1080


def test_a_redelivered_event_does_the_work_once(chalice_app, client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.media import service
    from chalicelib.media.domain import MediaStatus

    owner = make_account()
    data = jpeg(400, 300)
    upload = create_upload(client, owner, size_bytes=len(data)).json_body
    post_file(upload, data)
    key = upload["upload"]["fields"]["key"]
    ends = datetime.now(UTC) + timedelta(minutes=1)
    assert (
        service.process_upload(settings().media_bucket, key, len(data), ends) is MediaStatus.READY
    )
    assert service.process_upload(settings().media_bucket, key, len(data), ends) is None


@pytest.mark.parametrize(
    ("declared", "data", "reason_word"),
    [
        ("image/png", b"<!doctype html><html><body>hi</body></html>", "image"),
        ("image/jpeg", b"just some text, not a photo at all", "image"),
        ("image/jpeg", jpeg()[:4000], "corrupt"),
        ("image/png", png_header_only(100_000, 100_000), "megapixels"),
    ],
    ids=["html as png", "text as jpeg", "truncated jpeg", "decompression bomb"],
)
def test_a_file_that_is_not_a_usable_image_fails_with_a_reason_and_leaves_nothing(
    chalice_app,
    client: Client,
    make_account,
    declared: str,
    data: bytes,
    reason_word: str,  # type: ignore[no-untyped-def]
) -> None:
    owner = make_account()
    upload = create_upload(client, owner, content_type=declared, size_bytes=len(data)).json_body
    post_file(upload, data)
    key = upload["upload"]["fields"]["key"]
    deliver(chalice_app, s3_event(settings().media_bucket, key, len(data)))

    failed = client.http.get(f"/media/{upload['media_id']}", headers=owner.auth).json_body
    assert failed["status"] == "failed"
    assert reason_word in failed["reason"]
    assert failed["renditions"] == {}
    assert keys_under(f"renditions/{upload['media_id']}") == []
    assert keys_under(key) == []  # the original is deleted


def test_a_file_larger_than_declared_fails_even_though_moto_took_it(
    chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    # S3 refuses a POST over its policy's content-length-range; moto's S3 does not.
    owner = make_account()
    data = jpeg()
    upload = create_upload(client, owner, size_bytes=1000).json_body
    assert post_file(upload, data).status_code == 204
    deliver(
        chalice_app, s3_event(settings().media_bucket, upload["upload"]["fields"]["key"], len(data))
    )
    failed = client.http.get(f"/media/{upload['media_id']}", headers=owner.auth).json_body
    assert failed["status"] == "failed"
    assert "declared" in failed["reason"]


def test_an_object_no_upload_asked_for_is_deleted(chalice_app, make_account) -> None:  # type: ignore[no-untyped-def]
    owner = make_account()
    key = f"uploads/{owner.user_id}/made-up-id"
    boto3.client("s3").put_object(Bucket=settings().media_bucket, Key=key, Body=jpeg(200, 200))
    deliver(chalice_app, s3_event(settings().media_bucket, key, 100))
    assert keys_under(key) == []


def test_media_is_visible_to_its_owner_only(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    owner, stranger = make_account("owner"), make_account("stranger")
    media_id = create_upload(client, owner).json_body["media_id"]
    assert client.http.get(f"/media/{media_id}", headers=stranger.auth).status_code == 404
    assert client.http.get("/media/no-such-media", headers=owner.auth).status_code == 404


@pytest.mark.parametrize(
    "overrides",
    [{"content_type": "text/html"}, {"content_type": "image/svg+xml"}, {"size_bytes": 0},
     {"size_bytes": 20 * 1024 * 1024 + 1}, {"size_bytes": "5"}, {"purpose": "banner"}],
)  # fmt: skip
def test_bad_upload_requests_are_400(client: Client, make_account, overrides: dict) -> None:  # type: ignore[no-untyped-def]
    response = create_upload(client, make_account(), **overrides)
    assert response.status_code == 400
    assert response.json_body["Code"] == "BadRequestError"


def test_the_presigned_policy_binds_type_and_size(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    import base64

    upload = create_upload(
        client, make_account(), content_type="image/png", size_bytes=1234
    ).json_body
    policy = json.loads(base64.b64decode(upload["upload"]["fields"]["policy"]))
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert ["content-length-range", 1, 1234] in policy["conditions"]
    assert {"key": upload["upload"]["fields"]["key"]} in policy["conditions"]


def test_rendition_urls_use_the_cdn_when_configured(
    chalice_app, client: Client, make_account, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings

    owner = make_account()
    data = jpeg(400, 300)
    upload = create_upload(client, owner, size_bytes=len(data)).json_body
    post_file(upload, data)
    deliver(
        chalice_app, s3_event(settings().media_bucket, upload["upload"]["fields"]["key"], len(data))
    )
    monkeypatch.setenv("MEDIA_CDN_BASE_URL", "https://cdn.example.com/")
    get_settings.cache_clear()
    try:
        ready = client.http.get(f"/media/{upload['media_id']}", headers=owner.auth).json_body
    finally:
        monkeypatch.delenv("MEDIA_CDN_BASE_URL")
        get_settings.cache_clear()
    assert ready["renditions"]["small"]["url"] == (
        f"https://cdn.example.com/renditions/{upload['media_id']}/small.jpg"
    )


def test_unattached_media_past_its_ttl_reads_as_gone_before_dynamodb_deletes_it(
    client: Client,
    make_account,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from chalicelib.core.config import get_settings

    owner = make_account()
    monkeypatch.setenv("UNATTACHED_MEDIA_TTL_SECONDS", "0")
    get_settings.cache_clear()
    try:
        media_id = create_upload(client, owner).json_body["media_id"]
    finally:
        monkeypatch.delenv("UNATTACHED_MEDIA_TTL_SECONDS")
        get_settings.cache_clear()
    item = boto3.client("dynamodb").get_item(
        TableName=settings().media_table, Key={"media_id": {"S": media_id}}
    )
    assert "Item" in item  # moto never deletes TTL-expired items
    assert client.http.get(f"/media/{media_id}", headers=owner.auth).status_code == 404
