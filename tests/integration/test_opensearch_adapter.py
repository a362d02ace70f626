"""The OpenSearch adapter's requests as the fake OpenSearch receives them over HTTP: index
creation (idempotent, race-safe), SigV4 signing, the exact bulk actions, and failures; then
the fake's own semantics where openmock's would let a wrong query pass."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from chalicelib.core.errors import DependencyUnavailable, InvalidInput
from chalicelib.core.pagination import PageRequest
from chalicelib.search.domain import PostDocument, PostQuery, UserDocument
from chalicelib.search.opensearch_adapter import (
    HASHTAG_POSTS_INDEX,
    POSTS_INDEX,
    USERS_INDEX,
    OpenSearchIndex,
)

from local.embedded_aws import EmbeddedAws
from tests.fakes.opensearch_server import FakeOpenSearch


@pytest.fixture
def fake() -> Iterator[FakeOpenSearch]:
    with FakeOpenSearch() as server:
        yield server


@pytest.fixture
def index(fake: FakeOpenSearch, embedded_aws: EmbeddedAws) -> OpenSearchIndex:
    return OpenSearchIndex(fake.url, "shutter-test", region=embedded_aws.region)


def a_post(caption: str = "#sunset at the beach", **changes: object) -> PostDocument:
    fields = {
        "post_id": "01JD0000000000000000000000_a1",
        "author_id": "a1",
        "created_at": "2026-11-20T10:00:00.123Z",
        "caption": caption,
        "hashtags": ("sunset",),
        "location": "Lisbon",
        **changes,
    }
    return PostDocument(**fields)  # type: ignore[arg-type]


def test_indexes_are_created_once_with_their_mappings(
    fake: FakeOpenSearch, index: OpenSearchIndex, embedded_aws: EmbeddedAws
) -> None:
    index.ensure_indexes()
    index.ensure_indexes()
    # Another function (a fresh container) checks again and creates nothing.
    OpenSearchIndex(fake.url, "shutter-test", region=embedded_aws.region).ensure_indexes()

    created = {r.path: r.body for r in fake.requests if r.method == "PUT"}
    assert created == {
        "/shutter-test-users-v1": USERS_INDEX,
        "/shutter-test-posts-v1": POSTS_INDEX,
        "/shutter-test-hashtag-posts-v1": HASHTAG_POSTS_INDEX,
    }
    assert len(fake.requests_to("-v1", "HEAD")) == 6
    assert fake.indexes["shutter-test-users-v1"].mappings == USERS_INDEX["mappings"]


def test_losing_a_creation_race_is_not_an_error(
    fake: FakeOpenSearch, index: OpenSearchIndex, embedded_aws: EmbeddedAws
) -> None:
    index.ensure_indexes()
    racer = OpenSearchIndex(fake.url, "shutter-test", region=embedded_aws.region)
    racer.client.indices.exists = lambda index: False  # it looked before the winner created

    racer.ensure_indexes()

    already = [r for r in fake.requests if r.method == "PUT"]
    assert len(already) == 6  # three created, three refused as existing, none failed


def test_every_request_is_signed_with_sigv4_for_the_es_service(
    fake: FakeOpenSearch, index: OpenSearchIndex, embedded_aws: EmbeddedAws
) -> None:
    index.index_user(UserDocument("u1", "alice"))
    index.search_users("ali", PageRequest(20))

    assert fake.requests
    for request in fake.requests:
        authorization = request.headers["Authorization"]
        assert authorization.startswith("AWS4-HMAC-SHA256 Credential=")
        assert f"/{embedded_aws.region}/es/aws4_request" in authorization
        assert "SignedHeaders=" in authorization and "Signature=" in authorization
        assert request.headers["X-Amz-Date"] and request.headers["X-Amz-Content-Sha256"]


def test_an_edit_is_one_bulk_request_replacing_the_post_and_its_tags(
    fake: FakeOpenSearch, index: OpenSearchIndex
) -> None:
    before = a_post()
    after = a_post("#sunrise now", hashtags=("sunrise",), location=None)
    index.index_post(before)
    fake.requests.clear()

    index.index_post(after, before)

    [bulk] = fake.requests
    assert (bulk.method, bulk.path) == ("POST", "/_bulk")
    post_id = "01JD0000000000000000000000_a1"
    assert bulk.body == [
        {"index": {"_index": "shutter-test-posts-v1", "_id": post_id}},
        {
            "post_id": post_id,
            "author_id": "a1",
            "created_at": "2026-11-20T10:00:00.123Z",
            "caption": "#sunrise now",
            "location": None,
            "hashtags": ["sunrise"],
        },
        {"index": {"_index": "shutter-test-hashtag-posts-v1", "_id": f"sunrise|{post_id}"}},
        {"tag": "sunrise", "post_id": post_id, "created_at": "2026-11-20T10:00:00.123Z"},
        {"delete": {"_index": "shutter-test-hashtag-posts-v1", "_id": f"sunset|{post_id}"}},
    ]


def test_removing_twice_is_fine_but_any_other_failed_write_fails_the_record(
    fake: FakeOpenSearch, index: OpenSearchIndex
) -> None:
    index.index_post(a_post())
    index.remove_post(a_post())
    index.remove_post(a_post())  # deletes answer 404 not_found: nothing left to do

    del fake.indexes["shutter-test-posts-v1"]  # someone deleted the index under us
    with pytest.raises(DependencyUnavailable, match="search index writes failed"):
        index.index_post(a_post())


def test_searching_before_anything_was_indexed_finds_nothing(index: OpenSearchIndex) -> None:
    assert index.search_users("ali", PageRequest(20)).items == []
    assert index.search_hashtags("sun", PageRequest(20)).items == []
    assert index.search_posts(PostQuery(words=("beach",)), PageRequest(20)).items == []


def test_an_unreachable_domain_is_a_dependency_error(embedded_aws: EmbeddedAws) -> None:
    index = OpenSearchIndex("http://127.0.0.1:9", "shutter-test", region=embedded_aws.region)
    with pytest.raises(DependencyUnavailable):
        index.search_users("ali", PageRequest(20))
    with pytest.raises(DependencyUnavailable):
        index.index_user(UserDocument("u1", "alice"))


def test_a_cursor_of_another_shape_is_refused(index: OpenSearchIndex) -> None:
    with pytest.raises(InvalidInput):
        index.search_posts(PostQuery(words=("beach",)), PageRequest(20, {"after": ["x"]}))
    with pytest.raises(InvalidInput):
        index.search_hashtags("sun", PageRequest(20, {"after": ["sunrise"]}))


# The fake itself ----------------------------------------------------------------------------


def test_the_fake_matches_term_exactly_and_prefix_by_prefix(
    fake: FakeOpenSearch, index: OpenSearchIndex
) -> None:
    """openmock matches ``term`` by substring and has no ``prefix``: this fake does neither."""
    index.index_post(a_post())
    posts = index.client

    def hits(query: dict) -> int:
        found = posts.search(index="shutter-test-posts-v1", body={"query": query})
        return len(found["hits"]["hits"])

    assert hits({"term": {"hashtags": "sunset"}}) == 1
    assert hits({"term": {"hashtags": "sun"}}) == 0
    assert hits({"term": {"hashtags": "unse"}}) == 0
    assert hits({"prefix": {"hashtags": "sun"}}) == 1
    assert hits({"prefix": {"hashtags": "unse"}}) == 0
    assert hits({"match": {"text": {"query": "BEACH lisbon", "operator": "and"}}}) == 1
    assert hits({"match": {"text": {"query": "beach porto", "operator": "and"}}}) == 0
    assert hits({"match": {"text": {"query": "beach porto"}}}) == 1


def test_the_fake_refuses_what_it_does_not_implement_and_what_a_cluster_refuses(
    fake: FakeOpenSearch, index: OpenSearchIndex
) -> None:
    index.ensure_indexes()

    def search(body: dict) -> requests.Response:
        return requests.post(
            f"{fake.url}/shutter-test-posts-v1/_search", data=json.dumps(body), timeout=5
        )

    unknown = search({"query": {"fuzzy": {"caption": "beach"}}})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["type"] == "parsing_exception"
    strict = requests.post(
        f"{fake.url}/_bulk",
        data='{"index": {"_index": "shutter-test-posts-v1", "_id": "x"}}\n{"likes": 3}\n',
        timeout=5,
    ).json()
    assert strict["errors"] is True
    assert strict["items"][0]["index"]["error"]["type"] == "strict_dynamic_mapping_exception"
    again = requests.put(f"{fake.url}/shutter-test-posts-v1", data="{}", timeout=5)
    assert again.json()["error"]["type"] == "resource_already_exists_exception"


def test_the_fake_sorts_dates_as_epoch_millis_and_pages_with_search_after(
    fake: FakeOpenSearch, index: OpenSearchIndex
) -> None:
    for minute in range(3):
        index.index_post(
            a_post(post_id=f"p{minute}", created_at=f"2026-11-20T10:0{minute}:00.000Z")
        )
    body = {"query": {"term": {"hashtags": "sunset"}}, "size": 2, "sort": [
        {"created_at": {"order": "desc"}}, {"post_id": {"order": "desc"}}]}  # fmt: skip

    first = index.client.search(index="shutter-test-posts-v1", body=body)["hits"]["hits"]
    rest = index.client.search(
        index="shutter-test-posts-v1", body={**body, "search_after": first[-1]["sort"]}
    )["hits"]["hits"]

    assert [(h["_id"], h["sort"]) for h in first] == [
        ("p2", [1795168920000, "p2"]),
        ("p1", [1795168860000, "p1"]),
    ]
    assert [h["_id"] for h in rest] == ["p0"]
