"""A media's objects live exactly as long as its item: the one rule for deleting photos.

1. Whatever is done with a media lets go of it by deleting its item: in the transaction
   that ends what showed it (``repository.release_in``: a deleted post,
   ``posts/repository.py`` ``delete_post``; a replaced avatar), or on its own
   (``release_media``: a story's purge after retention, ``stories/cleanup.py``). Media
   never attached needs neither: DynamoDB TTL deletes its item (``expires_at``), late on
   AWS and never on moto.
2. However the item went, the media stream carries a REMOVE record with the old image, and
   ``delete_objects`` (from ``media/consumers.py``) deletes the original and every rendition
   in one request. Deleting a key that is already gone succeeds, so a redelivered record, or
   one whose objects were never written (a pending upload), does no harm.

A CDN may keep serving a deleted rendition until its cache entry expires (a year, as
renditions are immutable); invalidating it is the CDN's business, not this module's.
``infrastructure/reconcile.py`` (``make reconcile``) finds objects this missed, and the
bucket's lifecycle rule deletes originals after 30 days whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.core.config import get_settings
from chalicelib.core.observability import logger, metrics
from chalicelib.media import repository, storage
from chalicelib.media.domain import object_keys


def release_media(media_id: str, owner_id: str) -> bool:
    """Let go of ``owner_id``'s media: nothing shows it any more, so it is deleted, item now
    and objects within seconds (the media stream). Idempotent: False when it was already
    released (or is not ``owner_id``'s, which changes nothing).

    For a feature that lets go of media outside a transaction of its own; inside one, add
    ``repository.release_in`` to it instead, as deleting a post does.
    """
    released = repository.release(media_id, owner_id)
    if released:
        logger.info("media released", media_id=media_id)
    return released


def delete_objects(owner_id: str, media_id: str, recorded_keys: Iterable[str] = ()) -> None:
    """Delete the original and every rendition of a media whose item is gone."""
    keys = object_keys(owner_id, media_id, recorded_keys)
    storage.delete_objects(get_settings().media_bucket, keys)
    metrics.add_metric(name="MediaObjectsDeleted", unit="Count", value=len(keys))
