"""Search end to end: the local stack over HTTP, its stream plumbing indexing what is posted.

Runs twice: on the local stack as ``make run`` starts it (the DynamoDB index), and on a
second stack pointed at the fake OpenSearch (``OPENSEARCH_ENDPOINT``), so both adapters are
fed by real stream records from moto. Each search must find a new post within 5 s (the
contract says "within seconds"); ``wait_until`` polls, nothing sleeps.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.conftest import RunningStack, start_stack, stop_stack, wait_until
from tests.fakes.opensearch_server import FakeOpenSearch

FOUND_WITHIN_SECONDS = 5.0


@pytest.fixture(scope="module", params=["dynamodb", "opensearch"])
def stack(request: pytest.FixtureRequest) -> Iterator[RunningStack]:
    if request.param == "dynamodb":
        yield request.getfixturevalue("local_stack")
        return
    with FakeOpenSearch() as fake:
        running = start_stack({"OPENSEARCH_ENDPOINT": fake.url})
        try:
            yield running
        finally:
            assert stop_stack(running) == 0, "\n".join(running.output[-40:])
        assert fake.indexes, "the stack never wrote to the OpenSearch endpoint"


def items(stack: RunningStack, account: Any, path: str) -> list[dict[str, Any]]:
    response = stack.call("GET", path, account)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def seconds_since(start: float, condition) -> float:  # type: ignore[no-untyped-def]
    """How long after ``start`` the condition held; it must hold within 5 s of ``start``."""
    wait_until(condition, timeout=max(0.0, start + FOUND_WITHIN_SECONDS - time.monotonic()))
    return time.monotonic() - start


def test_a_new_post_is_found_within_seconds_and_a_deleted_one_disappears(
    stack: RunningStack, request: pytest.FixtureRequest
) -> None:
    author, reader = stack.sign_up("searched"), stack.sign_up("reader")
    signed_up = time.monotonic()
    word = "w" + uuid.uuid4().hex[:9]
    tag, place = f"{word}tag", f"{word}town"
    media_id = stack.upload_photo(author)
    created = stack.call(
        "POST", "/posts", author,
        json={"media_ids": [media_id], "caption": f"Morning {word} at the harbour #{tag}",
              "location": f"{place.title()}, Portugal"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    posted, post_id = time.monotonic(), created.json()["post_id"]

    def finds_post(q: str) -> bool:
        return post_id in [p["post_id"] for p in items(stack, reader, f"/search?type=posts&q={q}")]

    def tag_counted() -> bool:
        found = items(stack, reader, f"/search?type=hashtags&q={quote('#' + tag[:-2])}")
        return {"tag": tag, "post_count": 1} in found

    def finds_author() -> bool:
        found = items(stack, reader, f"/search?type=users&q={author.username[:-3].upper()}")
        return author.user_id in [u["user_id"] for u in found]

    seconds = {
        "username prefix": seconds_since(signed_up, finds_author),
        "hashtag prefix": seconds_since(posted, tag_counted),
        "caption word": seconds_since(posted, lambda: finds_post(word)),
        "#tag": seconds_since(posted, lambda: finds_post(quote(f"#{tag}"))),
        "place": seconds_since(posted, lambda: finds_post(place)),
    }
    hashtag_page = f"/hashtags/{tag}/posts"
    assert [p["post_id"] for p in items(stack, reader, hashtag_page)] == [post_id]

    deleted, gone = stack.call("DELETE", f"/posts/{post_id}", author), time.monotonic()
    assert deleted.status_code == 204
    seconds["gone from search"] = seconds_since(gone, lambda: not finds_post(word))
    seconds["gone from the hashtag page"] = seconds_since(
        gone, lambda: items(stack, reader, hashtag_page) == []
    )
    seconds["uncounted"] = seconds_since(gone, lambda: not tag_counted())
    print(
        f"\n{request.node.callspec.id}: " + ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items())
    )
