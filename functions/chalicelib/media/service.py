"""Uploads: hand out a presigned POST, then turn what arrives into renditions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from chalicelib.core.clock import utc_now
from chalicelib.core.config import get_settings
from chalicelib.core.errors import DependencyUnavailable, NotFound
from chalicelib.core.observability import logger, metrics
from chalicelib.media import repository, storage
from chalicelib.media.domain import (
    MAX_PROCESSING_ATTEMPTS,
    MAX_UPLOAD_BYTES,
    NOT_PROCESSED,
    AttachedMedia,
    Media,
    MediaNotAttachable,
    MediaStatus,
    Purpose,
    StoredRendition,
    attached,
    check_attachable,
    parse_upload_key,
    rendition_key,
)
from chalicelib.media.schemas import CreateUploadInput
from chalicelib.media.storage import PresignedUpload


def create_upload(owner_id: str, request: CreateUploadInput) -> tuple[Media, PresignedUpload]:
    settings = get_settings()
    now = utc_now()
    media = Media(
        media_id=uuid.uuid4().hex,
        owner_id=owner_id,
        purpose=request.purpose,
        declared_type=request.content_type,
        declared_size=request.size_bytes,
        status=MediaStatus.PENDING,
        created_at=now,
    )
    repository.create_pending(
        media, expires_at=now + timedelta(seconds=settings.unattached_media_ttl_seconds)
    )
    upload = storage.presign_upload(media.upload_key, request.content_type, request.size_bytes)
    logger.info("upload prepared", media_id=media.media_id, purpose=request.purpose.value)
    return media, upload


def get_own_media(viewer_id: str, media_id: str) -> Media:
    """The caller's own media; anyone else's reads as not found."""
    media = repository.get_media(media_id, utc_now())
    if media.owner_id != viewer_id:
        raise NotFound("no media with that id")
    return media


def photos_to_attach(
    owner_id: str, media_ids: Sequence[str], purpose: Purpose, now: datetime
) -> list[AttachedMedia]:
    """The owner's media as a holder of ``purpose`` keeps them, in the order asked: read in
    one consistent request and each checked (``check_attachable``) before the holder's
    transaction attaches them (``repository.attach``), which checks again as it writes."""
    found = repository.get_many(media_ids, now)
    for media_id in media_ids:
        check_attachable(media_id, found.get(media_id), owner_id, purpose)
    return [attached(found[media_id]) for media_id in media_ids]


def explain_refusal(owner_id: str, refused: MediaNotAttachable, purpose: Purpose) -> None:
    """After a holder's transaction failed on its media, which changed since they were read
    (another holder took one, it expired): read them again and raise what
    ``check_attachable`` says of them now. Returns when they look attachable again; the
    caller then answers a conflict to retry."""
    again = repository.get_many(refused.media_ids, utc_now())
    for media_id in sorted(refused.media_ids):
        check_attachable(media_id, again.get(media_id), owner_id, purpose)


def process_upload(
    bucket: str, key: str, size: int, invocation_ends: datetime
) -> MediaStatus | None:
    """Make the renditions of an uploaded original, once, whatever the event's deliveries.

    Returns the status it left the media in, or None when there was nothing to do. Raises
    when this attempt failed, so that Lambda retries the event, having left the upload for
    the retry to take.

    How an attempt holds the upload, and how the last one ends it:

    - The lease (``claim_for_processing``) lasts until ``invocation_ends``, when Lambda ends
      this invocation (the handler reads it from the context's remaining time): no lease
      outlives the invocation that took it, whether it returns, raises, times out or dies.
      A fixed lease longer than the function's timeout would outlive it, and Lambda's retry,
      a minute later, would find it held and give up on the upload.
    - An attempt that fails gives its lease back on the way out (``release_lease``), and
      raises; when even that write fails, the lease runs out with the invocation, before the
      retry comes.
    - Lambda tells a function nothing of which try an invocation is, so the item counts them:
      each claim adds one to ``attempts``. An attempt that fails as the
      ``MAX_PROCESSING_ATTEMPTS``-th (the first invocation and Lambda's two retries) marks
      the media failed instead, with a reason. One that cannot (it timed out, or DynamoDB
      refused that write too) leaves a lease that runs out after the last attempt, which
      reads as failed (``domain.processing_abandoned``): the media is never pending for
      ever. Counting on the item, rather than handling the on-failure destination, needs no
      other function and holds however the last invocation ended; the destination
      (``upload-failures``) stays the operators' record of what failed.
    """
    owner_and_id = parse_upload_key(key)
    if owner_and_id is None:
        logger.warning("ignored object outside the upload layout", key=key)
        return None
    owner_id, media_id = owner_and_id
    try:
        media = repository.get_media(media_id, utc_now())
    except NotFound:
        # No presigned POST names this key (the embedded S3 enforces no POST policy).
        logger.warning("deleted an upload nobody asked for", key=key)
        storage.delete_object(bucket, key)
        return None
    if media.owner_id != owner_id:
        logger.warning("deleted an upload under another owner's key", key=key)
        storage.delete_object(bucket, key)
        return None
    attempt = repository.claim_for_processing(media_id, utc_now(), invocation_ends)
    if attempt is None:
        logger.info("upload already handled", media_id=media_id)
        return None
    try:
        return _make_renditions(bucket, key, size, media)
    except Exception as error:
        _after_failed_attempt(media_id, attempt, invocation_ends, error)
        raise


def _make_renditions(bucket: str, key: str, size: int, media: Media) -> MediaStatus:
    media_id = media.media_id
    limit = min(media.declared_size, MAX_UPLOAD_BYTES)
    if size > limit:
        return _fail(
            bucket, key, media_id, f"the file is {size} bytes, more than the {limit} declared"
        )
    # Pillow lives in the media layer, which only this function carries.
    from chalicelib.media import imaging

    data = storage.read_object(bucket, key, limit)
    if len(data) > limit:
        return _fail(bucket, key, media_id, f"the file is more than the {limit} bytes declared")
    try:
        image = imaging.make_renditions(data)
    except imaging.ImageRejected as rejected:
        return _fail(bucket, key, media_id, rejected.reason)

    stored = {}
    for name, rendition in image.renditions.items():
        target = rendition_key(media_id, name)
        storage.write_rendition(target, rendition.data, rendition.content_type)
        stored[name] = StoredRendition(
            target, rendition.width, rendition.height, rendition.content_type
        )
    repository.mark_ready(media_id, image.width, image.height, stored)
    logger.info("upload ready", media_id=media_id, width=image.width, height=image.height)
    metrics.add_metric(name="UploadsReady", unit="Count", value=1)
    return MediaStatus.READY


def _after_failed_attempt(
    media_id: str, attempt: int, lease_until: datetime, error: Exception
) -> None:
    """Leave the upload to the next attempt, or, after the last, failed. Never raises over
    ``error``: if this cannot be recorded, the lease still ends with the invocation."""
    last = attempt >= MAX_PROCESSING_ATTEMPTS
    try:
        if last:
            repository.mark_failed(media_id, NOT_PROCESSED)
        else:
            repository.release_lease(media_id, lease_until)
    except DependencyUnavailable:
        logger.warning("could not record the failed attempt", media_id=media_id, attempt=attempt)
    logger.warning(
        "upload attempt failed",
        media_id=media_id,
        attempt=attempt,
        last=last,
        error=f"{type(error).__name__}: {error}",
    )
    if last:
        metrics.add_metric(name="UploadsNotProcessed", unit="Count", value=1)


def _fail(bucket: str, key: str, media_id: str, reason: str) -> MediaStatus:
    """Record why, and delete the original: it is not ours to keep."""
    repository.mark_failed(media_id, reason)
    storage.delete_object(bucket, key)
    logger.info("upload refused", media_id=media_id, reason=reason)
    metrics.add_metric(name="UploadsRefused", unit="Count", value=1)
    return MediaStatus.FAILED
