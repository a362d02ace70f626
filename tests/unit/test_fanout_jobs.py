"""The fan-out queue's messages: jobs queued before the fan-out moved out of the feed (its
``feed/queue.py`` wrote them) read the same, and new ones are written the same way."""

from __future__ import annotations

import pytest

POST_JOB = (
    '{"kind":"add","author_id":"a1","start":null,'
    '"post":{"post_id":"p1","author_id":"a1","created_at":"2026-11-20T10:00:00.000Z"}}'
)
STORY_JOB = (
    '{"kind":"story","author_id":"o1","start":{"follower_id":"f9","followee_id":"o1"},'
    '"story":{"owner_id":"o1","created_at":"2026-11-20T10:00:00.000Z","story_id":"s1",'
    '"expires_at":1795000000}}'
)
TAG_JOB = '{"kind":"tag","author_id":"u1","start":null}'


@pytest.mark.parametrize("body", [POST_JOB, STORY_JOB, TAG_JOB])
def test_a_job_in_flight_reads_and_writes_back_the_same(body: str) -> None:
    from chalicelib.fanout.queue import decode_job, encode_job

    assert encode_job(decode_job(body)) == body


def test_each_feature_reads_its_payload_and_writes_it_in_the_old_shape() -> None:
    from chalicelib.fanout.domain import FanoutJob
    from chalicelib.fanout.queue import decode_job, encode_job
    from chalicelib.feed import fanout as feed
    from chalicelib.feed.domain import JobKind
    from chalicelib.posts.domain import PostRef
    from chalicelib.stories import fanout as stories
    from chalicelib.stories.domain import StoryRef

    post = feed._post_of(decode_job(POST_JOB))
    assert post == PostRef("2026-11-20T10:00:00.000Z", "p1", "a1")
    assert encode_job(FanoutJob(JobKind.ADD, "a1", feed._payload(post))) == POST_JOB
    story = stories._story_of(decode_job(STORY_JOB))
    assert story == StoryRef("o1", "2026-11-20T10:00:00.000Z", "s1", 1795000000)
    start = {"follower_id": "f9", "followee_id": "o1"}
    job = FanoutJob(stories.STORY_JOB, "o1", stories._payload(story), start)
    assert encode_job(job) == STORY_JOB
