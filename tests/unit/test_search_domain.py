"""What search indexes and how queries are read (pure functions), and the exact OpenSearch
mappings and query bodies the adapter sends (snapshots: a change here is a change to what a
production cluster receives, to be made on purpose, with a new index version if a mapping
changes)."""

from __future__ import annotations

import pytest
from chalicelib.core.errors import InvalidInput
from chalicelib.search import opensearch_adapter as opensearch
from chalicelib.search.domain import (
    MAX_WORDS_PER_POST,
    PostDocument,
    PostQuery,
    SearchType,
    UnreadableImage,
    UserDocument,
    checked_query,
    hashtag,
    hashtag_prefix,
    normalise,
    post_query,
    search_type,
    user_prefix,
    words,
)

# Words and names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Golden hour at the #Beach!", ["golden", "hour", "at", "the", "beach"]),
        ("café CAFÉ Café", ["café"]),
        ("東京 and Москва", ["東京", "and", "москва"]),
        ("हिन्दी", ["हिन्दी"]),  # combining vowel signs stay in the word
        ("snake_case, @mention e-mail", ["snake_case", "mention", "e", "mail"]),
        ("🌅 sunrise🌅", ["sunrise"]),
        ("", []),
    ],
)
def test_words_are_normalised_runs_of_word_characters(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_normalise_lower_cases_and_collapses_whitespace() -> None:
    assert normalise("  Alice \t  SMITH\n") == "alice smith"
    assert normalise("Cafe\u0301") == "café"  # NFC: one code point, as tags are stored


def test_a_user_is_found_by_username_whole_full_name_and_each_word_of_it() -> None:
    user = UserDocument("u1", "Alice_W", "Alice  Mary-Smith")
    assert user.name_terms == ("alice_w", "alice mary-smith", "alice", "mary", "smith")
    assert UserDocument("u2", "bob").name_terms == ("bob",)


def test_documents_are_read_from_stream_images() -> None:
    post = PostDocument.from_image(
        {
            "post_id": "p1",
            "author_id": "a1",
            "created_at": "2026-11-20T10:00:00.123Z",
            "caption": "#Sunset",
            "hashtags": ["sunset", "sunset"],
            "location": "Lisbon",
            "like_count": 3,
        }
    )
    assert post == PostDocument(
        "p1", "a1", "2026-11-20T10:00:00.123Z", "#Sunset", ("sunset",), "Lisbon"
    )
    assert post.post_key == "2026-11-20T10:00:00.123Z#p1"
    assert post.words == ("sunset", "lisbon")
    user = UserDocument.from_image({"user_id": "u1", "username": "alice", "follower_count": 9})
    assert user == UserDocument("u1", "alice", "")
    with pytest.raises(UnreadableImage):
        PostDocument.from_image({"post_id": "p1", "author_id": "a1"})


def test_a_long_caption_indexes_its_first_hundred_distinct_words() -> None:
    caption = "x" * 101 + " " + " ".join(f"w{n}" for n in range(150))
    post = PostDocument("p1", "a1", "2026-11-20T10:00:00.123Z", caption, (), "Far Away")
    assert len(post.words) == MAX_WORDS_PER_POST
    assert post.words[0] == "w0" and "far" not in post.words


# Reading queries ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("sunset", PostQuery((), ("sunset",))),
        ("#Sunset", PostQuery(("sunset",), ())),
        ("\uff03タグ", PostQuery(("タグ",), ())),
        ("#sunset Lisbon, Portugal", PostQuery(("sunset",), ("lisbon", "portugal"))),
        ("a a #b #b", PostQuery(("b",), ("a",))),
        ("!!! ???", None),
        ("#", None),
    ],
)
def test_a_posts_query_is_its_tags_and_words(q: str, expected: PostQuery | None) -> None:
    assert post_query(q) == expected


def test_a_posts_query_has_at_most_eight_words_and_tags() -> None:
    assert post_query(" ".join(f"w{n}" for n in range(8))) is not None
    with pytest.raises(InvalidInput, match="at most 8"):
        post_query(" ".join(f"#w{n}" for n in range(9)))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("sun", "sun"),
        ("#SUN", "sun"),
        ("\uff03Sun", "sun"),
        ("café", "café"),
        ("sun set", None),  # no tag holds a space
        ("#", None),
        ("#" + "a" * 101, None),
    ],
)
def test_a_hashtag_prefix_is_what_a_tag_can_start_with(q: str, expected: str | None) -> None:
    assert hashtag_prefix(q) == expected


def test_a_hashtag_in_a_path_may_come_percent_encoded_with_or_without_its_hash() -> None:
    assert hashtag("Sunset") == hashtag("%23sunset") == hashtag("#sunset") == "sunset"
    assert hashtag("%E6%9D%B1%E4%BA%AC") == "東京"
    for bad in ("not a tag", "%23", "a" * 101, "a-b"):
        with pytest.raises(InvalidInput):
            hashtag(bad)


def test_a_user_prefix_may_start_with_at() -> None:
    assert user_prefix("@Alice ") == "alice"
    assert user_prefix("Alice  Sm") == "alice sm"
    assert user_prefix("@") is None


@pytest.mark.parametrize("q", [None, "", "   ", "a" * 101, "a\x00b", "a\x1bb", "a\ud800b"])
def test_q_is_required_bounded_and_printable(q: str | None) -> None:
    with pytest.raises(InvalidInput):
        checked_query(q)


def test_q_may_hold_any_script_and_emoji() -> None:
    assert checked_query("東京 🌅 café") == "東京 🌅 café"


def test_type_is_one_of_users_hashtags_posts() -> None:
    assert [search_type(kind) for kind in ("users", "hashtags", "posts")] == list(SearchType)
    for bad in (None, "", "Users", "places"):
        with pytest.raises(InvalidInput, match="users, hashtags, posts"):
            search_type(bad)


# What OpenSearch receives -------------------------------------------------------------------


def test_the_users_index_mapping() -> None:
    assert opensearch.USERS_INDEX == {
        "settings": {
            "index": {"number_of_shards": 1, "number_of_replicas": 1},
            "analysis": {
                "filter": {"username_edges": {"type": "edge_ngram", "min_gram": 1, "max_gram": 30}},
                "analyzer": {
                    "username_prefixes": {
                        "type": "custom",
                        "tokenizer": "keyword",
                        "filter": ["lowercase", "username_edges"],
                    },
                    "username_exact": {
                        "type": "custom",
                        "tokenizer": "keyword",
                        "filter": ["lowercase"],
                    },
                },
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "user_id": {"type": "keyword"},
                "username": {
                    "type": "keyword",
                    "fields": {
                        "prefixes": {
                            "type": "text",
                            "analyzer": "username_prefixes",
                            "search_analyzer": "username_exact",
                        }
                    },
                },
                "full_name": {"type": "search_as_you_type"},
            },
        },
    }


def test_the_posts_and_hashtag_posts_index_mappings() -> None:
    settings = {"index": {"number_of_shards": 1, "number_of_replicas": 1}}
    assert opensearch.POSTS_INDEX == {
        "settings": settings,
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "post_id": {"type": "keyword"},
                "author_id": {"type": "keyword"},
                "created_at": {"type": "date", "format": "strict_date_optional_time"},
                "caption": {"type": "text", "copy_to": "text"},
                "location": {"type": "text", "copy_to": "text"},
                "hashtags": {"type": "keyword"},
                "text": {"type": "text"},
            },
        },
    }
    assert opensearch.HASHTAG_POSTS_INDEX == {
        "settings": settings,
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "tag": {"type": "keyword"},
                "post_id": {"type": "keyword"},
                "created_at": {"type": "date", "format": "strict_date_optional_time"},
            },
        },
    }


def test_the_users_query() -> None:
    assert opensearch.users_query("alice sm", 20, ["alice_w"]) == {
        "size": 20,
        "_source": ["user_id"],
        "query": {
            "bool": {
                "should": [
                    {"term": {"username.prefixes": "alice sm"}},
                    {
                        "multi_match": {
                            "query": "alice sm",
                            "type": "bool_prefix",
                            "operator": "and",
                            "fields": ["full_name", "full_name._2gram", "full_name._3gram"],
                        }
                    },
                ],
                "minimum_should_match": 1,
            }
        },
        "sort": [{"username": {"order": "asc"}}],
        "search_after": ["alice_w"],
    }
    assert "search_after" not in opensearch.users_query("alice", 20, None)


def test_the_hashtags_query() -> None:
    assert opensearch.hashtags_query("sun", 2, "sunrise") == {
        "size": 0,
        "query": {"bool": {"filter": [{"prefix": {"tag": "sun"}}]}},
        "aggs": {
            "tags": {
                "composite": {
                    "size": 2,
                    "sources": [{"tag": {"terms": {"field": "tag"}}}],
                    "after": {"tag": "sunrise"},
                }
            }
        },
    }


def test_the_posts_query() -> None:
    query = PostQuery(tags=("sunset", "beach"), words=("lisbon", "portugal"))
    assert opensearch.posts_query(query, 20, [1795168800123, "p1"]) == {
        "size": 20,
        "_source": ["post_id"],
        "query": {
            "bool": {
                "filter": [
                    {"term": {"hashtags": "sunset"}},
                    {"term": {"hashtags": "beach"}},
                    {"match": {"text": {"query": "lisbon portugal", "operator": "and"}}},
                ]
            }
        },
        "sort": [{"created_at": {"order": "desc"}}, {"post_id": {"order": "desc"}}],
        "search_after": [1795168800123, "p1"],
    }


def test_the_documents() -> None:
    post = PostDocument("p1", "a1", "2026-11-20T10:00:00.123Z", "#Sunset", ("sunset",), None)
    assert opensearch.post_source(post) == {
        "post_id": "p1",
        "author_id": "a1",
        "created_at": "2026-11-20T10:00:00.123Z",
        "caption": "#Sunset",
        "location": None,
        "hashtags": ["sunset"],
    }
    assert opensearch.user_source(UserDocument("u1", "alice", "Alice")) == {
        "user_id": "u1",
        "username": "alice",
        "full_name": "Alice",
    }
    assert opensearch.hashtag_post_id("sunset", "p1") == "sunset|p1"
