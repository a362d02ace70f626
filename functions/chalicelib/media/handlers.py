"""The resize function. ``app.py`` subscribes it to S3 object-created events on the uploads
prefix only, so the renditions it writes elsewhere never trigger it again."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chalice.app import S3Event

from chalicelib.core.clock import utc_now
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.media import service
else:
    service = lazy_module("chalicelib.media.service")


def process_upload(event: S3Event) -> None:
    size = int(event.to_dict()["Records"][0]["s3"]["object"].get("size", 0))
    # The upload's lease ends when Lambda ends this invocation (see service.process_upload).
    context: Any = event.context  # Lambda's context object (Chalice types it loosely)
    remaining = timedelta(milliseconds=context.get_remaining_time_in_millis())
    service.process_upload(event.bucket, event.key, size, utc_now() + remaining)
