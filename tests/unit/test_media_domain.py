"""The media rules without AWS: which keys a media's objects have, and when an upload nobody
is processing any more reads as failed."""

from __future__ import annotations

import pytest
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
