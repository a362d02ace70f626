"""The resize function: S3 object-created events on the uploads prefix only, so the
renditions it writes elsewhere never trigger it again."""

from chalice import Blueprint
from chalice.app import S3Event

from chalicelib.core.config import get_settings
from chalicelib.media import service
from chalicelib.media.domain import UPLOADS_PREFIX

media_events = Blueprint(__name__)


@media_events.on_s3_event(
    bucket=get_settings().media_bucket, events=["s3:ObjectCreated:*"], prefix=UPLOADS_PREFIX
)
def process_upload(event: S3Event) -> None:
    size = int(event.to_dict()["Records"][0]["s3"]["object"].get("size", 0))
    service.process_upload(event.bucket, event.key, size)
