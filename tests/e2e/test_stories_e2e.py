"""Stories as a client sees them on `make run`: a short STORY_TTL_SECONDS and media retention,
and schedules sped up so the sweeper runs every second, as it runs every minute on AWS."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import boto3
import pytest

from tests.e2e.conftest import RunningStack, start_stack, stop_stack, wait_until
from tests.support import Account, objects_of_media

TTL_SECONDS = 30


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    running = start_stack(
        {
            "STORY_TTL_SECONDS": str(TTL_SECONDS),
            "STORY_MEDIA_RETENTION_SECONDS": "2",
            "LOCAL_SCHEDULE_SCALE": "60",  # rate(1 minute) fires every second
        }
    )
    yield running
    assert stop_stack(running) == 0, "\n".join(running.output[-40:])


def tray(stack: RunningStack, viewer: Account) -> list[dict]:
    response = stack.call("GET", "/stories/feed", viewer)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def tray_story_ids(stack: RunningStack, viewer: Account) -> list[str]:
    return [story["story_id"] for group in tray(stack, viewer) for story in group["stories"]]


def user_story_ids(stack: RunningStack, viewer: Account, owner: Account) -> list[str]:
    response = stack.call("GET", f"/users/{owner.user_id}/stories", viewer)
    assert response.status_code == 200, response.text
    return [story["story_id"] for story in response.json()["items"]]


def media_objects(stack: RunningStack, media_id: str) -> list[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return objects_of_media(s3, media_id)


def test_a_story_is_seen_viewed_and_gone_at_expiry_with_its_media(stack: RunningStack) -> None:
    owner, follower, stranger = stack.sign_up("own"), stack.sign_up("fan"), stack.sign_up("x")
    assert stack.call("POST", f"/users/{owner.user_id}/follow", follower).status_code == 200
    media_id = stack.upload_photo(owner, purpose="story")
    assert len(media_objects(stack, media_id)) == 5  # the original and four renditions

    created = stack.call("POST", "/stories", owner, json={"media_id": media_id})
    assert created.status_code == 201, created.text
    story_id = created.json()["story_id"]
    expires_at = datetime.fromisoformat(created.json()["expires_at"].replace("Z", "+00:00"))

    wait_until(lambda: tray_story_ids(stack, follower) == [story_id], timeout=10)
    assert tray_story_ids(stack, stranger) == []
    assert stack.call("POST", f"/stories/{story_id}/view", follower).status_code == 204
    assert tray(stack, follower)[0]["stories"][0]["seen"] is True
    viewers = stack.call("GET", f"/stories/{story_id}/viewers", owner)
    assert viewers.status_code == 200, viewers.text
    assert [v["user"]["user_id"] for v in viewers.json()["items"]] == [follower.user_id]
    assert stack.call("GET", f"/stories/{story_id}/viewers", stranger).status_code == 403

    # Gone within a second of its expiry, from every read.
    assert expires_at.timestamp() > time.time()
    wait_until(
        lambda: (
            tray_story_ids(stack, follower) == [] and user_story_ids(stack, follower, owner) == []
        ),
        timeout=expires_at.timestamp() - time.time() + 1,
    )
    assert time.time() >= expires_at.timestamp()
    assert user_story_ids(stack, owner, owner) == []
    assert tray(stack, owner) == []

    # The sweeper removes the story, the REMOVE record schedules the purge, which is due
    # two seconds later: then the original and every rendition are gone.
    wait_until(lambda: media_objects(stack, media_id) == [], timeout=20, every=0.5)
    assert stack.call("GET", f"/media/{media_id}", owner).status_code == 404
