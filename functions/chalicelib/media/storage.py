"""The media bucket: presigned uploads, originals, renditions and the URLs clients fetch.

Every S3 error becomes a domain error here; nothing above this module sees botocore.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.clients import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.errors import DependencyUnavailable

# Renditions never change once written: a new upload gets a new media id.
_RENDITION_CACHE_CONTROL = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class PresignedUpload:
    url: str
    fields: dict[str, str]
    expires_in: int


def presign_upload(key: str, content_type: str, max_bytes: int) -> PresignedUpload:
    """A presigned POST that S3 accepts only for this key, this type and at most this size.

    S3 enforces the policy; moto does not, so the resize function checks size again.
    """
    settings = get_settings()
    try:
        post = aws_client("s3").generate_presigned_post(
            Bucket=settings.media_bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=settings.upload_url_ttl_seconds,
        )
    except (BotoCoreError, ClientError) as exc:
        raise DependencyUnavailable("could not prepare the upload; retry shortly") from exc
    return PresignedUpload(post["url"], post["fields"], settings.upload_url_ttl_seconds)


def read_object(bucket: str, key: str, max_bytes: int) -> bytes:
    """The object's bytes; never reads more than ``max_bytes`` (+1, to tell it was larger)."""
    try:
        response = aws_client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        return response["Body"].read()
    except (BotoCoreError, ClientError) as exc:
        raise DependencyUnavailable("could not read the upload") from exc


def write_rendition(key: str, data: bytes, content_type: str) -> None:
    try:
        aws_client("s3").put_object(
            Bucket=get_settings().media_bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=_RENDITION_CACHE_CONTROL,
        )
    except (BotoCoreError, ClientError) as exc:
        raise DependencyUnavailable("could not store a rendition") from exc


def delete_object(bucket: str, key: str) -> None:
    try:
        aws_client("s3").delete_object(Bucket=bucket, Key=key)
    except (BotoCoreError, ClientError) as exc:
        raise DependencyUnavailable("could not delete an upload") from exc


def delete_objects(bucket: str, keys: Sequence[str]) -> None:
    """Delete these objects (up to 1,000) in one request; keys that do not exist are fine.

    S3 answers a multi-object delete with 200 and lists the keys it could not delete, so
    those are an error here too.
    """
    if not keys:
        return
    try:
        response = aws_client("s3").delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )
    except (BotoCoreError, ClientError) as exc:
        raise DependencyUnavailable("could not delete a media's objects") from exc
    if response.get("Errors"):
        failed = ", ".join(f"{e.get('Key')} ({e.get('Code')})" for e in response["Errors"])
        raise DependencyUnavailable(f"could not delete {failed}")


def public_url(key: str) -> str:
    """A URL a client can fetch directly: the CDN's when configured, else a presigned GET."""
    settings = get_settings()
    if settings.media_cdn_base_url:
        return f"{settings.media_cdn_base_url.rstrip('/')}/{key}"
    params: dict[str, Any] = {"Bucket": settings.media_bucket, "Key": key}
    return aws_client("s3").generate_presigned_url(
        "get_object", Params=params, ExpiresIn=settings.media_url_ttl_seconds
    )
