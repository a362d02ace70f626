"""The media rules without AWS: which keys a media's objects have, when an upload nobody
is processing any more reads as failed, and which photos a post, a story or a profile may
attach."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chalicelib.core.errors import AlreadyExists, NotAllowed, NotFound
from chalicelib.media import domain, imaging
from chalicelib.media.domain import (
    MAX_PROCESSING_ATTEMPTS,
    MediaStatus,
    media_id_of_key,
    object_keys,
    processing_abandoned,
)

from infrastructure.deploy import UPLOAD_MAX_RETRIES


def test_the_renditions_named_are_the_ones_the_resize_function_makes() -> None:
    assert tuple(imaging.RENDITIONS) == domain.RENDITION_NAMES


def test_the_last_attempt_is_lambdas_last_retry() -> None:
    assert MAX_PROCESSING_ATTEMPTS == 1 + UPLOAD_MAX_RETRIES


def test_a_medias_objects_are_its_original_and_every_rendition() -> None:
    assert object_keys("owner", "m1", ["renditions/m1/thumb.jpg", "renditions/m1/old.jpg"]) == [
        "uploads/owner/m1",
        "renditions/m1/thumb.jpg",
        "renditions/m1/small.jpg",
        "renditions/m1/medium.jpg",
        "renditions/m1/large.jpg",
        "renditions/m1/old.jpg",
    ]


@pytest.mark.parametrize(
    ("key", "media_id"),
    [
        ("uploads/owner/m1", "m1"),
        ("renditions/m1/large.jpg", "m1"),
        ("renditions/m1/", None),
        ("uploads/m1", None),
        ("uploads/owner/m1/extra", None),
        ("elsewhere/m1", None),
    ],
)
def test_an_objects_key_names_its_media(key: str, media_id: str | None) -> None:
    assert media_id_of_key(key) == media_id


NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("status", "lease_until", "attempts", "abandoned"),
    [
        (MediaStatus.PROCESSING, NOW - 1, MAX_PROCESSING_ATTEMPTS, True),
        (MediaStatus.PROCESSING, NOW, MAX_PROCESSING_ATTEMPTS, False),  # may still be running
        (MediaStatus.PROCESSING, NOW - 1, MAX_PROCESSING_ATTEMPTS - 1, False),  # a retry comes
        (MediaStatus.PENDING, None, MAX_PROCESSING_ATTEMPTS - 1, False),
        (MediaStatus.READY, None, MAX_PROCESSING_ATTEMPTS, False),
    ],
)
def test_an_upload_whose_last_lease_ran_out_is_abandoned(
    status: MediaStatus, lease_until: int | None, attempts: int, abandoned: bool
) -> None:
    assert processing_abandoned(status, lease_until, attempts, NOW) is abandoned


# Attaching: one rule for posts, stories and avatars, saying what the old three said ------


def _media(purpose: str = "post", owner_id: str = "me", **changes: object) -> domain.Media:
    fields: dict[str, object] = {
        "media_id": "m1",
        "owner_id": owner_id,
        "purpose": domain.Purpose(purpose),
        "declared_type": "image/jpeg",
        "declared_size": 10,
        "status": MediaStatus.READY,
        "created_at": datetime(2026, 11, 20, tzinfo=UTC),
        **changes,
    }
    return domain.Media(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("purpose", ["post", "story", "avatar"])
def test_the_owners_ready_unattached_photo_of_the_purpose_is_attachable(purpose: str) -> None:
    domain.check_attachable("m1", _media(purpose), "me", domain.Purpose(purpose))


@pytest.mark.parametrize(
    ("purpose", "found", "error", "message"),
    [
        ("post", None, NotFound, "no media with id 'm1'"),
        ("story", None, NotFound, "no media with id 'm1'"),
        ("avatar", None, NotFound, "no media with id 'm1' is yours"),
        ("post", _media(owner_id="other"), NotAllowed, "media 'm1' is not yours"),
        ("story", _media("story", "other"), NotAllowed, "media 'm1' is not yours"),
        # Someone else's avatar photo is as unknown as a missing one: ids leak nothing.
        ("avatar", _media("avatar", "other"), NotFound, "no media with id 'm1' is yours"),
        (
            "post",
            _media("story"),
            AlreadyExists,
            "media 'm1' was uploaded as 'story'; upload it with purpose 'post'",
        ),
        (
            "avatar",
            _media("post"),
            AlreadyExists,
            "media 'm1' was uploaded as 'post'; upload it with purpose 'avatar'",
        ),
        ("post", _media(post_id="p1"), AlreadyExists, "media 'm1' is already in a post"),
        (
            "story",
            _media("story", story_id="s1"),
            AlreadyExists,
            "media 'm1' is already in a story",
        ),
        (
            "avatar",
            _media("avatar", avatar_of="me"),
            AlreadyExists,
            "media 'm1' is already an avatar",
        ),
        (
            "post",
            _media(status=MediaStatus.PROCESSING),
            AlreadyExists,
            "media 'm1' is not ready yet; retry once it is",
        ),
        (
            "story",
            _media("story", status=MediaStatus.FAILED, reason="not an image"),
            AlreadyExists,
            "media 'm1' could not be processed: not an image",
        ),
    ],
)
def test_a_photo_that_may_not_be_attached_is_refused_with_what_clients_are_told(
    purpose: str, found: domain.Media | None, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as refused:
        domain.check_attachable("m1", found, "me", domain.Purpose(purpose))
    assert str(refused.value) == message
