"""The media table: one item per upload, from pending to ready or failed."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import (
    DeleteError,
    GetError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.clock import epoch_seconds
from chalicelib.core.dynamodb import BaseMeta, FromSettings, transact
from chalicelib.core.errors import DependencyUnavailable, NotFound
from chalicelib.limits import repository as limits
from chalicelib.limits.domain import Action
from chalicelib.media.domain import (
    MAX_PROCESSING_ATTEMPTS,
    NOT_PROCESSED,
    AttachedMedia,
    Holder,
    Media,
    MediaStatus,
    Purpose,
    StoredRendition,
    processing_abandoned,
)


class RenditionAttribute(MapAttribute[str, object]):
    key = UnicodeAttribute()
    width = NumberAttribute()
    height = NumberAttribute()
    content_type = UnicodeAttribute()


class AttachedMediaAttribute(MapAttribute[str, object]):
    """How posts, stories and profiles store the photos they carry (see ``AttachedMedia``)."""

    media_id = UnicodeAttribute()
    width = NumberAttribute()
    height = NumberAttribute()
    renditions = MapAttribute[str, RenditionAttribute]()


def attached_attribute(photo: AttachedMedia) -> AttachedMediaAttribute:
    return AttachedMediaAttribute(
        media_id=photo.media_id,
        width=photo.width,
        height=photo.height,
        renditions={
            name: RenditionAttribute(
                key=r.key, width=r.width, height=r.height, content_type=r.content_type
            )
            for name, r in photo.renditions.items()
        },
    )


def attached_from_attribute(attribute: AttachedMediaAttribute) -> AttachedMedia:
    return AttachedMedia(
        media_id=attribute.media_id,
        width=int(attribute.width),
        height=int(attribute.height),
        renditions={
            name: StoredRendition(
                key=value["key"],
                width=int(value["width"]),
                height=int(value["height"]),
                content_type=value["content_type"],
            )
            for name, value in attribute.renditions.as_dict().items()
        },
    )


class MediaItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("media_table")

    media_id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    purpose = UnicodeAttribute()
    declared_type = UnicodeAttribute()
    declared_size = NumberAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    reason = UnicodeAttribute(null=True)
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    renditions = MapAttribute[str, RenditionAttribute](null=True)
    # The resize function's lease (epoch seconds): the end of the invocation holding it.
    lease_until = NumberAttribute(null=True)
    # How many invocations of the resize function have taken the lease: the last may fail it.
    attempts = NumberAttribute(null=True)
    # DynamoDB TTL: unattached media goes away (late; reads check it themselves).
    expires_at = NumberAttribute(null=True)
    # The post it is attached to; set once, in the transaction that creates the post.
    post_id = UnicodeAttribute(null=True)
    # The story it is attached to; set once, in the transaction that creates the story.
    story_id = UnicodeAttribute(null=True)
    # The user whose avatar it is; set and cleared in the transaction that changes the avatar.
    avatar_of = UnicodeAttribute(null=True)


def _to_media(item: MediaItem, now: datetime) -> Media:
    status, reason = MediaStatus(item.status), item.reason
    lease_until = int(item.lease_until) if item.lease_until is not None else None
    if processing_abandoned(status, lease_until, int(item.attempts or 0), epoch_seconds(now)):
        status, reason = MediaStatus.FAILED, NOT_PROCESSED
    renditions = {
        name: StoredRendition(
            key=value["key"],
            width=int(value["width"]),
            height=int(value["height"]),
            content_type=value["content_type"],
        )
        for name, value in (item.renditions.as_dict() if item.renditions else {}).items()
    }
    return Media(
        media_id=item.media_id,
        owner_id=item.owner_id,
        purpose=Purpose(item.purpose),
        declared_type=item.declared_type,
        declared_size=int(item.declared_size),
        status=status,
        created_at=item.created_at,
        reason=reason,
        width=int(item.width) if item.width is not None else None,
        height=int(item.height) if item.height is not None else None,
        renditions=renditions,
        post_id=item.post_id,
        story_id=item.story_id,
        avatar_of=item.avatar_of,
    )


def create_pending(media: Media, expires_at: datetime) -> None:
    """Record the upload and charge the owner's daily upload limit, both or neither.

    Raises ``RateLimited`` when the owner is at their limit."""
    item = MediaItem(
        media.media_id,
        owner_id=media.owner_id,
        purpose=media.purpose.value,
        declared_type=media.declared_type,
        declared_size=media.declared_size,
        status=MediaStatus.PENDING.value,
        created_at=media.created_at,
        expires_at=epoch_seconds(expires_at),
    )

    def build(transaction: TransactWrite) -> None:
        transaction.save(item, condition=MediaItem.media_id.does_not_exist())
        limits.charge(transaction, media.owner_id, Action.UPLOADS, media.created_at)  # last

    try:
        transact(build)
    except TransactWriteError as exc:
        limits.refuse_if_exceeded(exc, Action.UPLOADS, media.created_at)
        raise DependencyUnavailable("could not record the upload; retry shortly") from exc


def get_media(media_id: str, now: datetime) -> Media:
    """The media item, unless it never existed or its TTL has passed (deleted or not yet)."""
    try:
        item = MediaItem.get(media_id, consistent_read=True)
    except MediaItem.DoesNotExist as exc:
        raise NotFound("no media with that id") from exc
    except GetError as exc:
        raise DependencyUnavailable("could not read the media; retry shortly") from exc
    if _expired(item, now):
        raise NotFound("no media with that id")
    return _to_media(item, now)


def claim_for_processing(media_id: str, now: datetime, lease_until: datetime) -> int | None:
    """Take the processing lease until ``lease_until``; returns which attempt this is (1 for
    the first), or None when this delivery should do nothing.

    A pending upload is claimed; so is one whose previous lease ran out (that invocation
    ended without a result), unless that was the last attempt. Ready, failed and leased
    uploads are left alone: the event was delivered twice, or its work is in hand.
    """
    now_epoch = epoch_seconds(now)
    claimable = (MediaItem.status == MediaStatus.PENDING.value) | (
        (MediaItem.status == MediaStatus.PROCESSING.value) & (MediaItem.lease_until < now_epoch)
    )
    attempts_left = MediaItem.attempts.does_not_exist() | (
        MediaItem.attempts < MAX_PROCESSING_ATTEMPTS
    )
    item = MediaItem(media_id)
    try:
        item.update(
            actions=[
                MediaItem.status.set(MediaStatus.PROCESSING.value),
                MediaItem.lease_until.set(math.ceil(lease_until.timestamp())),
                MediaItem.attempts.add(1),
            ],
            condition=MediaItem.media_id.exists() & claimable & attempts_left,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise DependencyUnavailable("could not claim the upload") from exc
    return int(item.attempts)


def release_lease(media_id: str, lease_until: datetime) -> None:
    """Give back a lease taken until ``lease_until`` (and only that one): the upload is
    pending again, for the next attempt to claim at once."""
    try:
        MediaItem(media_id).update(
            actions=[
                MediaItem.status.set(MediaStatus.PENDING.value),
                MediaItem.lease_until.remove(),
            ],
            condition=(MediaItem.status == MediaStatus.PROCESSING.value)
            & (MediaItem.lease_until == math.ceil(lease_until.timestamp())),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise DependencyUnavailable("could not give back the upload's lease") from exc


def mark_ready(
    media_id: str, width: int, height: int, renditions: dict[str, StoredRendition]
) -> None:
    stored = {
        name: RenditionAttribute(
            key=r.key, width=r.width, height=r.height, content_type=r.content_type
        )
        for name, r in renditions.items()
    }
    _finish(
        media_id,
        [
            MediaItem.status.set(MediaStatus.READY.value),
            MediaItem.width.set(width),
            MediaItem.height.set(height),
            MediaItem.renditions.set(stored),
        ],
    )


def mark_failed(media_id: str, reason: str) -> None:
    _finish(
        media_id, [MediaItem.status.set(MediaStatus.FAILED.value), MediaItem.reason.set(reason)]
    )


def _finish(media_id: str, actions: list) -> None:  # type: ignore[type-arg]
    try:
        MediaItem(media_id).update(
            actions=[*actions, MediaItem.lease_until.remove()],
            condition=MediaItem.status == MediaStatus.PROCESSING.value,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return  # another delivery finished it first: nothing to add
        raise DependencyUnavailable("could not record the result") from exc


def _expired(item: MediaItem, now: datetime) -> bool:
    return item.expires_at is not None and item.expires_at <= epoch_seconds(now)


def get_many(media_ids: Iterable[str], now: datetime) -> dict[str, Media]:
    """Several media items in one consistent BatchGetItem (up to 100); missing and
    TTL-expired ones are left out. Consistent, because a post is made right after the
    resize function marked its media ready."""
    keys = list(dict.fromkeys(media_ids))
    if not keys:
        return {}
    try:
        items = list(MediaItem.batch_get(keys, consistent_read=True))
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read the media; retry shortly") from exc
    return {item.media_id: _to_media(item, now) for item in items if not _expired(item, now)}


def attach(
    transaction: TransactWrite, media_id: str, owner_id: str, holder: Holder, now: datetime
) -> None:
    """Add to the holder's transaction (a post's, a story's, a profile's): record the media
    as the holder's and stop its TTL.

    The condition holds only for the owner's ready, unexpired media uploaded for the
    holder's purpose that nothing holds yet, so two holders racing for one photo cannot both
    get it, whatever was read before. A story's clean-up releases its media after retention
    (``release``), a post's deletion in its own transaction (``release_in``), an avatar's
    replacement in the profile's (``release_from_avatar``).
    """
    unexpired = MediaItem.expires_at.does_not_exist() | (MediaItem.expires_at > epoch_seconds(now))
    held_by_nothing = (
        MediaItem.post_id.does_not_exist()
        & MediaItem.story_id.does_not_exist()
        & MediaItem.avatar_of.does_not_exist()
    )
    transaction.update(
        MediaItem(media_id),
        actions=[
            _holder_attribute(holder.purpose).set(holder.holder_id),
            MediaItem.expires_at.remove(),
        ],
        condition=(MediaItem.owner_id == owner_id)
        & (MediaItem.purpose == holder.purpose.value)
        & (MediaItem.status == MediaStatus.READY.value)
        & held_by_nothing
        & unexpired,
    )


def _holder_attribute(purpose: Purpose) -> UnicodeAttribute:
    """Where the media item records its holder: each purpose has its own attribute."""
    return {
        Purpose.POST: MediaItem.post_id,
        Purpose.STORY: MediaItem.story_id,
        Purpose.AVATAR: MediaItem.avatar_of,
    }[purpose]


def release_in(transaction: TransactWrite, media_id: str, owner_id: str) -> None:
    """Add to the transaction that ends what showed the media (a post's deletion, say):
    delete the owner's media item; the media stream's REMOVE record then deletes its objects.
    An item already gone is no obstacle; another owner's fails the transaction."""
    transaction.delete(
        MediaItem(media_id),
        condition=MediaItem.media_id.does_not_exist() | (MediaItem.owner_id == owner_id),
    )


def release(media_id: str, owner_id: str) -> bool:
    """Delete the media item of ``owner_id``'s that nothing shows any more; False when there
    was none (already released, or another owner's). The media stream's REMOVE record then
    deletes its objects (``media/consumers.py``)."""
    try:
        MediaItem(media_id).delete(condition=MediaItem.owner_id == owner_id)
        return True
    except DeleteError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise DependencyUnavailable("could not release the media") from exc


def release_from_avatar(transaction: TransactWrite, media_id: str, user_id: str) -> None:
    """Add to a profile's transaction: the media is no longer the user's avatar, and goes, as
    a deleted post's photos do (``release_in``): its item is deleted, and the media stream's
    REMOVE record then deletes its objects. The condition fails the transaction unless the
    media is that user's avatar now.
    """
    transaction.delete(MediaItem(media_id), condition=MediaItem.avatar_of == user_id)
