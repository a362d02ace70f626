"""Hashtags and mentions parsed from captions and comments, and the ids posts are named by."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chalicelib.core.ids import is_ulid, new_ulid
from chalicelib.posts.captions import MAX_HASHTAG_LENGTH, hashtags, mentions
from chalicelib.posts.domain import author_of, new_post_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#Sunset at the #beach", ["sunset", "beach"]),
        ("#SUNSET #sunset #Sunset", ["sunset"]),
        ("#café #Café #CAFÉ", ["café"]),
        ("#東京 #مرحبا #Москва", ["東京", "مرحبا", "москва"]),
        ("#हिन्दी", ["हिन्दी"]),  # combining vowel signs are part of the tag
        ("#snake_case #2024 #a1", ["snake_case", "2024", "a1"]),
        ("full-width \uff03タグ", ["タグ"]),
        ("#end. #comma, #bang! #(paren)", ["end", "comma", "bang"]),
        ("a#b c&#39;s ##double", ["double"]),
        ("# alone, #", []),
        ("#emoji🌅tail", ["emoji"]),
        ("line\n#next\tline#no", ["next"]),
    ],
)
def test_hashtags_are_lower_cased_deduplicated_in_order(text: str, expected: list[str]) -> None:
    assert hashtags(text) == expected


def test_composed_and_decomposed_accents_are_one_tag() -> None:
    assert hashtags("#cafe\u0301 #caf\u00e9") == ["caf\u00e9"]


def test_an_over_long_hashtag_is_not_a_tag() -> None:
    assert hashtags("#" + "a" * MAX_HASHTAG_LENGTH) == ["a" * MAX_HASHTAG_LENGTH]
    assert hashtags("#" + "a" * (MAX_HASHTAG_LENGTH + 1)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi @Alice and @bob_99", ["alice", "bob_99"]),
        ("@alice @ALICE @alice", ["alice"]),
        ("thanks @alice.", ["alice"]),
        ("@first.last, @x.y.z!", ["first.last", "x.y.z"]),
        ("mail me at someone@example.com", []),
        ("@@alice", []),
        ("@", []),
        ("(@alice)", ["alice"]),
        ("@" + "a" * 30, ["a" * 30]),
        ("@" + "a" * 31, []),  # longer than any username
        ("@éric", []),
        ("@aliceé", []),
    ],
)
def test_mentions_are_usernames_lower_cased_in_order(text: str, expected: list[str]) -> None:
    assert mentions(text) == expected


def test_post_ids_name_their_author_and_nothing_else_does() -> None:
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    post_id = new_post_id("0b7f9a9e-1111-2222-3333-444455556666", at)
    assert author_of(post_id) == "0b7f9a9e-1111-2222-3333-444455556666"
    for other in ["", "abc", "_user", f"{post_id[:26]}_", "01JD3ZK8X7M4Q2V9W5T6R8Y0AI_u",
                  f"{post_id[:26]}_{'u' * 300}"]:  # fmt: skip
        assert author_of(other) is None, other


def test_ulids_sort_by_time_and_stay_in_order_within_a_millisecond() -> None:
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    later = datetime(2026, 11, 20, 10, 0, 1, tzinfo=UTC)
    same_ms = [new_ulid(at) for _ in range(100)]
    assert same_ms == sorted(same_ms)
    assert len(set(same_ms)) == 100
    assert new_ulid(later) > same_ms[-1]
    assert all(is_ulid(value) for value in same_ms)
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    milliseconds = 0
    for char in new_ulid(later)[:10]:  # the first ten characters are the time
        milliseconds = milliseconds * 32 + alphabet.index(char)
    assert milliseconds == int(later.timestamp() * 1000)
