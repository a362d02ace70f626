from __future__ import annotations

import pytest
from chalicelib.core.errors import InvalidInput
from chalicelib.core.pagination import MAX_LIMIT, CursorCodec, parse_limit

POSITION = {"follower_id": {"S": "a"}, "followee_id": {"S": "b"}, "followed_at": {"S": "2026"}}


def test_a_cursor_round_trips_within_its_list() -> None:
    codec = CursorCodec("secret-secret-secret")
    cursor = codec.encode(POSITION, "followers:u1")
    assert cursor is not None
    assert codec.decode(cursor, "followers:u1") == POSITION


def test_the_end_of_a_list_has_no_cursor() -> None:
    codec = CursorCodec("secret-secret-secret")
    assert codec.encode(None, "s") is None
    assert codec.decode(None, "s") is None
    assert codec.decode("", "s") is None


def test_a_cursor_is_opaque() -> None:
    cursor = CursorCodec("secret-secret-secret").encode(POSITION, "s")
    assert cursor is not None
    assert "follower_id" not in cursor and "{" not in cursor


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # signature changed
        lambda c: ("e" if c[0] != "e" else "f") + c[1:],  # payload changed
        lambda c: c.replace(".", ""),
        lambda c: c + ".extra",
        lambda c: "x" * 5000,
        lambda c: "not base64!.sig",
    ],
)
def test_a_tampered_cursor_is_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    codec = CursorCodec("secret-secret-secret")
    cursor = codec.encode(POSITION, "s")
    with pytest.raises(InvalidInput):
        codec.decode(mutate(cursor), "s")


def test_a_cursor_from_another_list_or_key_is_refused() -> None:
    cursor = CursorCodec("secret-secret-secret").encode(POSITION, "followers:u1")
    with pytest.raises(InvalidInput):
        CursorCodec("secret-secret-secret").decode(cursor, "followers:u2")
    with pytest.raises(InvalidInput):
        CursorCodec("another-secret-entirely").decode(cursor, "followers:u1")


def test_a_validly_signed_non_object_is_refused() -> None:
    codec = CursorCodec("secret-secret-secret")
    payload = "WzFd"  # base64url of "[1]"
    forged = f"{payload}.{codec._signature('s', payload)}"
    with pytest.raises(InvalidInput):
        codec.decode(forged, "s")


@pytest.mark.parametrize(("raw", "expected"), [(None, 20), ("1", 1), ("50", 50)])
def test_limit_defaults_and_bounds(raw: str | None, expected: int) -> None:
    assert parse_limit(raw) == expected


# An empty ?limit= is not a number either: the document says integer, and so does this.
@pytest.mark.parametrize("raw", ["", "0", str(MAX_LIMIT + 1), "-1", "1.5", "ten", " 5", "\u0665"])
def test_limit_out_of_range_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="limit"):
        parse_limit(raw)
