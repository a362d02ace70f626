"""One contract, two search indexes: every test here runs against both adapters.

- ``dynamodb``: ``DynamoDBSearchIndex`` against the session's embedded AWS (moto), on the
  tables the provisioner made. Tables are shared by the session, so every name, tag and
  word a test uses starts with a token of its own.
- ``opensearch``: ``OpenSearchIndex`` through opensearch-py (SigV4 signing, the bulk helper)
  against ``tests/fakes/opensearch_server.py``, a fresh fake per test (see there what only a
  real cluster confirms).

Users are compared as sets where the adapters order them differently (DynamoDB by the name
that matched, OpenSearch by username); posts are newest first in both.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.search.domain import PostDocument, PostQuery, UserDocument, post_query, user_prefix
from chalicelib.search.dynamodb_adapter import DynamoDBSearchIndex
from chalicelib.search.opensearch_adapter import OpenSearchIndex
from chalicelib.search.port import SearchIndex

from local.embedded_aws import EmbeddedAws
from tests.fakes.opensearch_server import FakeOpenSearch

_clock = count()


def token() -> str:
    """A fresh lower-case stem, so one test's names never match another's prefixes."""
    return "q" + "".join(random.choices(string.ascii_lowercase, k=9))


def moment(minutes: int = 0) -> str:
    at = datetime(2026, 11, 20, 10, tzinfo=UTC) + timedelta(minutes=minutes, microseconds=0)
    at += timedelta(milliseconds=next(_clock))
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post(
    post_id: str, caption: str = "", location: str | None = None, minutes: int = 0
) -> PostDocument:
    from chalicelib.posts.captions import hashtags

    return PostDocument(
        post_id=f"{post_id}_author",
        author_id="author",
        created_at=moment(minutes),
        caption=caption,
        hashtags=tuple(hashtags(caption)),
        location=location,
    )


def every_page(read, limit: int) -> list[Page]:  # type: ignore[no-untyped-def]
    pages, position = [], None
    while True:
        page = read(PageRequest(limit, position))
        pages.append(page)
        position = page.position
        if position is None:
            return pages
        assert len(pages) < 50, "paging never ends"


def ids(page: Page) -> list[str]:
    return [item.removesuffix("_author") for item in page.items]


@pytest.fixture(params=["dynamodb", "opensearch"])
def index(request: pytest.FixtureRequest, embedded_aws: EmbeddedAws) -> Iterator[SearchIndex]:
    if request.param == "dynamodb":
        yield DynamoDBSearchIndex()
        return
    with FakeOpenSearch() as fake:
        yield OpenSearchIndex(fake.url, f"contract-{token()}", region=embedded_aws.region)


class TestSearchIndexContract:
    # Users ----------------------------------------------------------------------------------

    def test_users_are_found_by_username_prefix_whatever_the_case(self, index: SearchIndex) -> None:
        t = token()
        index.index_user(UserDocument("u1", f"{t}alice_w", "Someone"))
        index.index_user(UserDocument("u2", f"{t}alicia", ""))
        index.index_user(UserDocument("u3", f"{t}bob", "Bob"))

        def found(q: str) -> set[str]:
            prefix = user_prefix(q)
            assert prefix is not None
            return set(index.search_users(prefix, PageRequest(20)).items)

        assert found(f"{t}ali") == {"u1", "u2"}
        assert found(f"{t.upper()}ALICE") == {"u1"}
        assert found(f"@{t}alice_w") == {"u1"}
        assert found(f"{t}bob") == {"u3"}
        assert found(f"{t}alice_wx") == set()
        assert found(f"{t}c") == set()

    def test_users_are_found_by_full_name_prefix_and_by_any_word_of_it(
        self, index: SearchIndex
    ) -> None:
        t = token()
        index.index_user(UserDocument("u1", f"{t}x1", f"{t}Alice {t}Smith"))
        index.index_user(UserDocument("u2", f"{t}x2", f"{t}Bob {t}Smithers"))

        def found(q: str) -> set[str]:
            return set(index.search_users(user_prefix(q) or "", PageRequest(20)).items)

        assert found(f"{t}alice") == {"u1"}
        assert found(f"{t}ALICE {t}SM") == {"u1"}  # the whole name, as typed
        assert found(f"{t}smith") == {"u1", "u2"}  # a later word
        assert found(f"{t}smithe") == {"u2"}
        assert found(f"{t}carol") == set()

    def test_a_user_matching_several_names_is_listed_once_however_it_is_paged(
        self, index: SearchIndex
    ) -> None:
        t = token()
        for n in range(5):
            # username, full name and its first word all start with the same prefix
            index.index_user(UserDocument(f"u{n}", f"{t}ann{n}", f"{t}Ann{n} {t}Annson"))

        pages = every_page(lambda page: index.search_users(f"{t}ann", page), limit=2)

        listed = [user_id for page in pages for user_id in page.items]
        assert sorted(listed) == [f"u{n}" for n in range(5)]
        assert all(len(page.items) <= 2 for page in pages)

    def test_renaming_a_user_forgets_the_old_names(self, index: SearchIndex) -> None:
        t = token()
        index.index_user(UserDocument("u1", f"{t}old", f"{t}Former Name"))
        index.index_user(UserDocument("u1", f"{t}new", f"{t}Current Name"))
        index.index_user(UserDocument("u1", f"{t}new", f"{t}Current Name"))  # a record again

        assert index.search_users(f"{t}old", PageRequest(20)).items == []
        assert index.search_users(f"{t}former", PageRequest(20)).items == []
        assert index.search_users(f"{t}new", PageRequest(20)).items == ["u1"]
        assert index.search_users(f"{t}current", PageRequest(20)).items == ["u1"]

    def test_removed_users_are_not_found(self, index: SearchIndex) -> None:
        t = token()
        index.index_user(UserDocument("u1", f"{t}gone", "Gone"))
        index.remove_user("u1")
        index.remove_user("u1")  # a record again

        assert index.search_users(t, PageRequest(20)).items == []

    # Hashtags -------------------------------------------------------------------------------

    def test_hashtags_are_found_by_prefix_in_tag_order_with_their_post_counts(
        self, index: SearchIndex
    ) -> None:
        t = token()
        index.index_post(post("p1", f"#{t}sunset #{t}sunrise"))
        index.index_post(post("p2", f"#{t}Sunset again"))
        index.index_post(post("p3", f"#{t}beach"))

        found = index.search_hashtags(f"{t}sun", PageRequest(20)).items
        assert [(h.tag, h.post_count) for h in found] == [(f"{t}sunrise", 1), (f"{t}sunset", 2)]
        assert [h.tag for h in index.search_hashtags(t, PageRequest(20)).items] == [
            f"{t}beach",
            f"{t}sunrise",
            f"{t}sunset",
        ]

    def test_hashtag_results_page_in_tag_order(self, index: SearchIndex) -> None:
        t = token()
        for n in range(5):
            index.index_post(post(f"p{n}", f"#{t}tag{n}"))

        pages = every_page(lambda page: index.search_hashtags(t, page), limit=2)

        assert [h.tag for page in pages for h in page.items] == [f"{t}tag{n}" for n in range(5)]

    def test_a_repeated_record_counts_a_post_once(self, index: SearchIndex) -> None:
        t = token()
        first = post("p1", f"#{t}once")
        index.index_post(first)
        index.index_post(first)
        index.index_post(post("p2", f"#{t}once"))

        [tag] = index.search_hashtags(t, PageRequest(20)).items
        assert tag.post_count == 2
        index.remove_post(first)
        index.remove_post(first)
        [tag] = index.search_hashtags(t, PageRequest(20)).items
        assert tag.post_count == 1

    def test_a_tag_whose_posts_were_all_deleted_is_not_found(self, index: SearchIndex) -> None:
        t = token()
        only = post("p1", f"#{t}brief")
        index.index_post(only)
        index.remove_post(only)

        assert index.search_hashtags(t, PageRequest(20)).items == []
        assert index.hashtag_posts(f"{t}brief", PageRequest(20)).items == []

    # Posts ----------------------------------------------------------------------------------

    def test_posts_are_found_by_a_caption_word_a_tag_or_a_place(self, index: SearchIndex) -> None:
        t = token()
        index.index_post(post("p1", f"Golden hour at the {t}Beach #{t}sunset", f"{t}Lisbon"))
        index.index_post(post("p2", f"a {t}beach day", None, minutes=1))

        def found(q: str) -> list[str]:
            query = post_query(q)
            assert query is not None
            return ids(index.search_posts(query, PageRequest(20)))

        assert found(f"{t}beach") == ["p2", "p1"]  # newest first
        assert found(f"{t.upper()}BEACH") == ["p2", "p1"]
        assert found(f"#{t}sunset") == ["p1"]
        assert found(f"{t}sunset") == ["p1"]  # a tag in the caption is a word too
        assert found(f"{t}lisbon") == ["p1"]
        assert found(f"#{t}beach") == []  # a word is not a tag

    def test_every_word_and_tag_of_the_query_must_match(self, index: SearchIndex) -> None:
        t = token()
        index.index_post(post("p1", f"{t}red {t}boat #{t}harbour", f"{t}Porto"))
        index.index_post(post("p2", f"{t}red {t}car", f"{t}Porto", minutes=1))

        def found(q: str) -> list[str]:
            return ids(index.search_posts(post_query(q) or PostQuery(), PageRequest(20)))

        assert found(f"{t}red {t}porto") == ["p2", "p1"]
        assert found(f"{t}red {t}boat") == ["p1"]
        assert found(f"#{t}harbour {t}porto") == ["p1"]
        assert found(f"#{t}harbour {t}car") == []

    def test_an_edit_moves_a_post_to_its_new_words_and_tags(self, index: SearchIndex) -> None:
        t = token()
        before = post("p1", f"{t}draft #{t}old", f"{t}Paris")
        index.index_post(before)
        after = PostDocument(
            before.post_id,
            before.author_id,
            before.created_at,
            caption=f"{t}final #{t}new",
            hashtags=(f"{t}new",),
            location=None,
        )
        index.index_post(after, before)
        index.index_post(after, before)  # a record again

        def found(q: str) -> list[str]:
            return ids(index.search_posts(post_query(q) or PostQuery(), PageRequest(20)))

        assert found(f"{t}final") == ["p1"]
        assert found(f"#{t}new") == ["p1"]
        assert found(f"{t}draft") == []
        assert found(f"{t}paris") == []
        assert found(f"#{t}old") == []
        assert [(h.tag, h.post_count) for h in index.search_hashtags(t, PageRequest(20)).items] == [
            (f"{t}new", 1)
        ]

    def test_a_deleted_post_leaves_search_and_its_hashtag_page(self, index: SearchIndex) -> None:
        t = token()
        kept, deleted = post("p1", f"#{t}tag {t}word"), post("p2", f"#{t}tag {t}word", minutes=1)
        index.index_post(kept)
        index.index_post(deleted)
        index.remove_post(deleted)

        assert ids(index.hashtag_posts(f"{t}tag", PageRequest(20))) == ["p1"]
        assert ids(index.search_posts(PostQuery(words=(f"{t}word",)), PageRequest(20))) == ["p1"]

    def test_hashtag_pages_are_newest_first_without_gaps_or_duplicates(
        self, index: SearchIndex
    ) -> None:
        t = token()
        for n in range(5):
            index.index_post(post(f"p{n}", f"#{t}page", minutes=n))

        first = index.hashtag_posts(f"{t}page", PageRequest(2))
        # A post arriving at the head while the reader pages does not shift later pages.
        index.index_post(post("p9", f"#{t}page", minutes=9))
        rest, position = [], first.position
        while position is not None:
            page = index.hashtag_posts(f"{t}page", PageRequest(2, position))
            rest += ids(page)
            position = page.position

        assert ids(first) == ["p4", "p3"]
        assert rest == ["p2", "p1", "p0"]

    # Backfill -------------------------------------------------------------------------------

    def test_bulk_indexing_is_indexing_many_at_once(self, index: SearchIndex) -> None:
        t = token()
        users = [UserDocument(f"u{n}", f"{t}user{n}", f"{t}Full Name") for n in range(3)]
        posts = [post(f"p{n}", f"#{t}bulk {t}word", minutes=n) for n in range(3)]

        index.bulk_index(users, posts)
        index.bulk_index(users, posts)  # a backfill run again

        assert sorted(index.search_users(t, PageRequest(20)).items) == ["u0", "u1", "u2"]
        assert ids(index.hashtag_posts(f"{t}bulk", PageRequest(20))) == ["p2", "p1", "p0"]
        assert [(h.tag, h.post_count) for h in index.search_hashtags(t, PageRequest(20)).items] == [
            (f"{t}bulk", 3)
        ]
