"""Search through the real routes and the real stream Lambdas, against moto.

Posts and profiles are made through the routes; the event plumbing carries their stream
records to the search consumers as Lambda would (``EventPlumbing``), or a test hands the
stream handler AWS-shaped records itself (``events/``) to check idempotency and partial
batch failures. The DynamoDB adapter serves every test here but the last ones, which point
the app at the fake OpenSearch; both adapters are held to one contract in
``test_search_contract.py``.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
from boto3.dynamodb.types import TypeSerializer
from chalice.test import Client

from local.event_plumbing import EventPlumbing
from local.lambda_runtime import LambdaContext
from tests.fakes.opensearch_server import FakeOpenSearch
from tests.support import Account, DynamoDBCallCounter, load_event

ROOT = Path(__file__).resolve().parents[2]
_serializer = TypeSerializer()


def stem() -> str:
    """A word no other test uses, so searches see only this test's data."""
    return "s" + uuid.uuid4().hex[:10]


def get(client: Client, path: str, account: Account) -> Any:
    return client.http.get(path, headers=account.auth)


def search(client: Client, account: Account, q: str, kind: str, **params: Any) -> dict:
    query = "&".join(f"{k}={quote(str(v))}" for k, v in {"q": q, "type": kind, **params}.items())
    response = get(client, f"/search?{query}", account)
    assert response.status_code == 200, response.body
    return response.json_body


def found_posts(client: Client, account: Account, q: str) -> list[str]:
    return [item["post_id"] for item in search(client, account, q, "posts")["items"]]


def hashtag_page(client: Client, account: Account, tag: str, query: str = "") -> dict:
    response = get(client, f"/hashtags/{quote(tag)}/posts{query}", account)
    assert response.status_code == 200, response.body
    return response.json_body


def make_post(client: Client, author: Account, media_id: str, caption: str, location=None) -> dict:  # type: ignore[no-untyped-def]
    payload: dict[str, Any] = {"media_ids": [media_id], "caption": caption}
    if location is not None:
        payload["location"] = location
    created = client.http.post("/posts", headers=author.auth, body=json.dumps(payload))
    assert created.status_code == 201, created.body
    return created.json_body


@pytest.fixture
def plumbing(chalice_app) -> Iterator[EventPlumbing]:  # type: ignore[no-untyped-def]
    with EventPlumbing(chalice_app) as running:
        assert running.wait_until_idle(timeout=60), "earlier stream records still pending"
        yield running


def settle(plumbing: EventPlumbing) -> None:
    assert plumbing.wait_until_idle(timeout=30)


# Through the streams ------------------------------------------------------------------------


def test_a_new_post_is_found_by_word_tag_and_place_until_it_is_deleted(
    plumbing: EventPlumbing, client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, reader = make_account("author"), make_account("reader")
    word = stem()
    post = make_post(
        client,
        author,
        make_ready_media(author),
        f"Golden hour on the {word} #{word}Tag",
        location=f"{word}ville, Portugal",
    )
    settle(plumbing)

    assert found_posts(client, reader, word) == [post["post_id"]]
    assert found_posts(client, reader, f"#{word}tag") == [post["post_id"]]
    assert found_posts(client, reader, f"{word}ville portugal") == [post["post_id"]]
    [item] = search(client, reader, f"#{word}ta", "hashtags")["items"]
    assert item == {"tag": f"{word}tag", "post_count": 1}
    [shown] = hashtag_page(client, reader, f"{word}tag")["items"]
    # Items are posts, exactly as the post route renders them for this reader.
    assert shown == get(client, f"/posts/{post['post_id']}", reader).json_body

    assert client.http.delete(f"/posts/{post['post_id']}", headers=author.auth).status_code == 204
    # Gone from the next read, before the stream has removed it from the index...
    assert found_posts(client, reader, word) == []
    settle(plumbing)
    # ...and from the index and the counts once it has.
    assert hashtag_page(client, reader, f"{word}tag")["items"] == []
    assert search(client, reader, f"{word}ta", "hashtags")["items"] == []


def test_users_are_found_by_username_and_full_name_and_renames_follow(
    plumbing: EventPlumbing, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    reader, alice = make_account("reader"), make_account(stem())
    name = stem()
    patched = client.http.patch(
        "/users/me", headers=alice.auth, body=json.dumps({"full_name": f"{name} Smith"})
    )
    assert patched.status_code == 200
    settle(plumbing)

    expected = {
        "user_id": alice.user_id,
        "username": alice.username,
        "full_name": f"{name} Smith",
        "avatar": None,
    }
    assert search(client, reader, alice.username[:8].upper(), "users")["items"] == [expected]
    assert search(client, reader, f"@{alice.username}", "users")["items"] == [expected]
    assert search(client, reader, f"{name} sm", "users")["items"] == [expected]

    renamed = stem()
    client.http.patch("/users/me", headers=alice.auth, body=json.dumps({"full_name": renamed}))
    settle(plumbing)
    assert search(client, reader, name, "users")["items"] == []
    assert [u["full_name"] for u in search(client, reader, renamed, "users")["items"]] == [renamed]


def test_private_accounts_posts_are_found_only_by_the_author_and_approved_followers(
    plumbing: EventPlumbing, client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, follower, stranger = make_account("priv"), make_account("fol"), make_account("str")
    client.http.patch("/users/me", headers=author.auth, body=json.dumps({"is_private": True}))
    assert client.http.post(f"/users/{author.user_id}/follow", headers=follower.auth).json_body
    approved = client.http.post(f"/follow-requests/{follower.user_id}/approve", headers=author.auth)
    assert approved.status_code == 200
    tag = stem()
    post = make_post(client, author, make_ready_media(author), f"#{tag} secret {tag}word")
    settle(plumbing)

    for viewer in (author, follower):
        assert found_posts(client, viewer, f"{tag}word") == [post["post_id"]]
        assert [p["post_id"] for p in hashtag_page(client, viewer, tag)["items"]] == [
            post["post_id"]
        ]
    assert found_posts(client, stranger, f"{tag}word") == []
    assert hashtag_page(client, stranger, tag)["items"] == []
    # The tag and its count are not private: Instagram shows them too.
    assert search(client, stranger, tag, "hashtags")["items"] == [{"tag": tag, "post_count": 1}]
    # The account itself can be found, as on Instagram.
    assert [u["user_id"] for u in search(client, stranger, author.username, "users")["items"]] == [
        author.user_id
    ]

    client.http.delete(f"/users/{author.user_id}/follow", headers=follower.auth)
    assert found_posts(client, follower, f"{tag}word") == []  # on the very next read


def test_a_page_is_topped_up_past_posts_the_viewer_may_not_see(
    plumbing: EventPlumbing, client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    public, private, stranger = make_account("pub"), make_account("priv"), make_account("str")
    client.http.patch("/users/me", headers=private.auth, body=json.dumps({"is_private": True}))
    tag = stem()
    older = [make_post(client, public, make_ready_media(public), f"#{tag}") for _ in range(2)]
    for _ in range(2):
        make_post(client, private, make_ready_media(private), f"#{tag}")
    settle(plumbing)

    page = hashtag_page(client, stranger, tag, "?limit=2")

    assert [p["post_id"] for p in page["items"]] == [p["post_id"] for p in reversed(older)]


def test_hashtag_pages_and_results_page_newest_first_with_cursors(
    plumbing: EventPlumbing, client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, reader = make_account("author"), make_account("reader")
    tag = stem()
    posted = [make_post(client, author, make_ready_media(author), f"#{tag}") for _ in range(3)]
    settle(plumbing)

    newest_first = [p["post_id"] for p in reversed(posted)]
    for path in (f"/hashtags/{tag}/posts?limit=2", f"/search?type=posts&q=%23{tag}&limit=2"):
        seen, response = [], get(client, path, reader).json_body
        while True:
            seen += [p["post_id"] for p in response["items"]]
            if response["next_cursor"] is None:
                break
            response = get(client, f"{path}&cursor={response['next_cursor']}", reader).json_body
        assert seen == newest_first, path


# Input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "/search?q=alice",  # no type
        "/search?q=alice&type=places",
        "/search?q=alice&type=USERS",
        "/search?type=users",  # no q
        "/search?type=users&q=",
        "/search?type=users&q=%20%20",
        "/search?type=users&q=" + "a" * 101,
        "/search?type=posts&q=a%00b",
        "/search?type=posts&q=" + "+".join(f"w{n}" for n in range(9)),  # nine words
        "/search?type=users&q=alice&limit=0",
        "/search?type=users&q=alice&limit=51",
        "/search?type=users&q=alice&limit=ten",
        "/search?type=users&q=alice&cursor=forged",
        "/hashtags/not%20a%20tag/posts",
        "/hashtags/" + "a" * 101 + "/posts",
        "/hashtags/%23/posts",
        "/hashtags/sunset/posts?limit=99",
    ],
)
def test_bad_input_is_a_400_naming_the_problem(client: Client, make_account, query: str) -> None:  # type: ignore[no-untyped-def]
    reader = make_account("reader")
    response = get(client, query, reader)
    assert response.status_code == 400, (query, response.body)
    assert response.json_body["Code"] == "BadRequestError"
    assert response.json_body["Message"]


def test_a_cursor_belongs_to_its_query(
    plumbing: EventPlumbing, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    reader = make_account("reader")
    prefix = stem()
    for n in range(3):
        make_account(f"{prefix}{n}")
    settle(plumbing)

    first = search(client, reader, prefix, "users", limit=2)
    assert len(first["items"]) == 2 and first["next_cursor"]
    elsewhere = get(client, f"/search?type=users&q={prefix}x&cursor={first['next_cursor']}", reader)
    assert elsewhere.status_code == 400
    rest = search(client, reader, prefix, "users", limit=2, cursor=first["next_cursor"])
    assert len({u["user_id"] for u in first["items"] + rest["items"]}) == 3


def test_queries_that_cannot_match_anything_are_empty_lists(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    reader = make_account("reader")
    for kind, q in (("posts", "!!! ???"), ("hashtags", "not a tag"), ("users", "@")):
        assert search(client, reader, q, kind) == {"items": [], "next_cursor": None}
    assert hashtag_page(client, reader, f"#{stem()}") == {"items": [], "next_cursor": None}


# The stream consumers -------------------------------------------------------------------------

SEARCH_SAMPLES = {
    "dynamodbStreamPostInsert.json": "posts_stream",
    "dynamodbStreamPostRemove.json": "posts_stream",
    "dynamodbStreamUserModify.json": "users_stream",
}


def image(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def post_record(
    sample: str, new: dict[str, Any] | None, old: dict[str, Any] | None, sequence: int
) -> dict[str, Any]:
    record = copy.deepcopy(load_event(sample)["Records"][0])
    stream_record = record["dynamodb"]
    for name, item in (("NewImage", new), ("OldImage", old)):
        stream_record.pop(name, None)
        if item is not None:
            stream_record[name] = image(item)
    stream_record["Keys"] = {"post_id": image(new or old or {})["post_id"]}
    record["eventName"] = "MODIFY" if new and old else "INSERT" if new else "REMOVE"
    stream_record["SequenceNumber"] = f"{sequence:024d}"
    return record


def stored_post(tag: str, caption: str = "", like_count: int = 0) -> dict[str, Any]:
    author = f"author-{tag}"
    return {
        "post_id": f"01JD{uuid.uuid4().hex[:22].upper()}_{author}",
        "author_id": author,
        "created_at": "2026-11-20T10:00:00.123Z",
        "caption": caption or f"#{tag}",
        "hashtags": [tag],
        "mentions": [],
        "media": [],
        "like_count": like_count,
        "comment_count": 0,
    }


def deliver(app, handler: str, *records: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return app.handler_map[handler]({"Records": list(records)}, LambdaContext(handler))


def tag_count(tag: str) -> int | None:
    from chalicelib.search.dynamodb_adapter import HashtagItem

    try:
        return int(HashtagItem.get(tag, consistent_read=True).post_count)
    except HashtagItem.DoesNotExist:
        return None


@pytest.mark.parametrize("sample", sorted(SEARCH_SAMPLES))
def test_each_search_sample_event_matches_the_powertools_model_and_is_consumed(
    chalice_app, sample: str
) -> None:  # type: ignore[no-untyped-def]
    parsed = DynamoDBStreamModel.model_validate(load_event(sample))
    assert parsed.Records[0].eventSource == "aws:dynamodb"
    handler = SEARCH_SAMPLES[sample]
    assert chalice_app.handler_map[handler](load_event(sample), LambdaContext(handler)) == {
        "batchItemFailures": []
    }


def test_a_record_delivered_twice_counts_once_and_a_removal_twice_uncounts_once(
    chalice_app,
) -> None:  # type: ignore[no-untyped-def]
    tag = stem()
    first, second = stored_post(tag), stored_post(tag)
    insert = post_record("dynamodbStreamPostInsert.json", first, None, 1)

    deliver(chalice_app, "posts_stream", insert, insert)
    deliver(
        chalice_app, "posts_stream", post_record("dynamodbStreamPostInsert.json", second, None, 2)
    )
    assert tag_count(tag) == 2

    remove = post_record("dynamodbStreamPostRemove.json", None, first, 3)
    deliver(chalice_app, "posts_stream", remove)
    deliver(chalice_app, "posts_stream", remove)
    assert tag_count(tag) == 1


def test_a_like_or_comment_count_change_writes_nothing_to_the_search_tables(chalice_app) -> None:  # type: ignore[no-untyped-def]
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from chalicelib.search import consumers

    tag = stem()
    before = stored_post(tag)
    after = {**before, "like_count": 1}
    record = DynamoDBRecord(post_record("dynamodbStreamPostInsert.json", after, before, 1))

    with DynamoDBCallCounter() as counter:
        consumers.on_post_record(record)
    assert counter.calls == []


def test_an_unreadable_record_fails_alone_and_the_rest_of_the_batch_is_indexed(chalice_app) -> None:  # type: ignore[no-untyped-def]
    tag = stem()
    broken = stored_post(tag)
    del broken["created_at"]
    good = stored_post(tag)

    response = deliver(
        chalice_app,
        "posts_stream",
        post_record("dynamodbStreamPostInsert.json", broken, None, 7),
        post_record("dynamodbStreamPostInsert.json", good, None, 8),
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": f"{7:024d}"}]}
    assert tag_count(tag) == 1


# OpenSearch instead -----------------------------------------------------------------------------


@pytest.fixture
def opensearch(monkeypatch: pytest.MonkeyPatch, embedded_aws) -> Iterator[FakeOpenSearch]:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings
    from chalicelib.search.index import search_index

    with FakeOpenSearch() as fake:
        monkeypatch.setenv("OPENSEARCH_ENDPOINT", fake.url)
        monkeypatch.setenv("OPENSEARCH_INDEX_PREFIX", f"it-{stem()}")
        get_settings.cache_clear()
        search_index.cache_clear()
        yield fake
    monkeypatch.undo()
    get_settings.cache_clear()
    search_index.cache_clear()


def test_setting_an_opensearch_endpoint_moves_indexing_and_search_there(
    opensearch: FakeOpenSearch, chalice_app, client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.search.index import search_index
    from chalicelib.search.opensearch_adapter import OpenSearchIndex

    index = search_index()
    assert isinstance(index, OpenSearchIndex)
    reader, author = make_account("reader"), make_account("author")
    tag = stem()
    post = stored_post(tag, caption=f"#{tag} {tag}word")
    post["post_id"] = post["post_id"].replace(f"author-{tag}", author.user_id)
    post["author_id"] = author.user_id
    deliver(
        chalice_app, "posts_stream", post_record("dynamodbStreamPostInsert.json", post, None, 1)
    )

    assert search(client, reader, tag, "hashtags")["items"] == [{"tag": tag, "post_count": 1}]
    # The post itself is not in the posts table (only its record was delivered): the index
    # answered its id, and the read of the posts left it out, as for a deleted post.
    assert found_posts(client, reader, f"{tag}word") == []
    assert opensearch.requests_to("/_bulk", "POST")
    assert all(
        r.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 Credential=")
        for r in opensearch.requests
    )


def test_the_rest_api_does_not_load_opensearch_py_unless_a_stage_uses_it(embedded_aws) -> None:  # type: ignore[no-untyped-def]
    probe = (
        "import sys, app; from chalicelib.search import service; "
        "service.search_index(); print('opensearchpy' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENSEARCH_ENDPOINT"}
    env["PYTHONPATH"] = str(ROOT / "functions")
    result = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", probe], cwd=ROOT / "functions", env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_a_backfill_indexes_what_existed_before_a_stage_moved_to_opensearch(
    opensearch: FakeOpenSearch, client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.search.backfill import backfill
    from chalicelib.search.index import search_index

    # Made before the switch: their stream records went to the DynamoDB index only.
    author, reader = make_account(stem()), make_account("reader")
    tag = stem()
    post = make_post(client, author, make_ready_media(author), f"#{tag}", location="Porto")

    counted = backfill(search_index())

    assert counted["users"] >= 2 and counted["posts"] >= 1
    assert [p["post_id"] for p in hashtag_page(client, reader, tag)["items"]] == [post["post_id"]]
    assert [u["user_id"] for u in search(client, reader, author.username, "users")["items"]] == [
        author.user_id
    ]
