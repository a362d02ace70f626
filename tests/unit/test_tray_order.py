"""The story tray's order and its positions (``stories.domain.tray_page``)."""

from __future__ import annotations

import pytest
from chalicelib.core.errors import InvalidInput
from chalicelib.stories.domain import TrayAccount, tray_page

ME = "me"


def story(stamp: str, owner: str) -> str:
    return f"01JD{stamp:0>22}_{owner}"


ACCOUNTS = [
    TrayAccount("old", story("1", "old")),
    TrayAccount("seen", story("9", "seen"), seen_up_to=story("9", "seen")),
    TrayAccount(ME, story("2", ME)),
    TrayAccount("new", story("8", "new"), seen_up_to=story("7", "new")),  # a newer one unseen
    TrayAccount("mid", story("5", "mid")),
]


def owners(page: list[TrayAccount]) -> list[str]:
    return [account.owner_id for account in page]


def test_the_tray_is_mine_then_unseen_newest_first_then_seen() -> None:
    page, position = tray_page(ACCOUNTS, ME, None, 10)
    assert owners(page) == [ME, "new", "mid", "old", "seen"]
    assert position is None


def test_pages_follow_on_from_their_position_without_gaps_or_repeats() -> None:
    seen: list[str] = []
    position = None
    for _ in range(5):
        page, position = tray_page(ACCOUNTS, ME, position, 2)
        seen += owners(page)
        if position is None:
            break
    assert seen == [ME, "new", "mid", "old", "seen"]


def test_an_account_seen_between_pages_is_shown_where_it_now_stands() -> None:
    first, position = tray_page(ACCOUNTS, ME, None, 2)
    assert owners(first) == [ME, "new"]
    now = [
        a if a.owner_id != "mid" else TrayAccount("mid", a.latest_story_id, a.latest_story_id)
        for a in ACCOUNTS
    ]
    rest, _ = tray_page(now, ME, position, 10)
    assert owners(rest) == ["old", "seen", "mid"]  # seen now: among the seen, newest first


@pytest.mark.parametrize("position", [{}, {"rank": "1", "latest": "x", "owner": "y"}, {"rank": 1}])
def test_a_position_of_another_shape_is_bad_input(position: dict) -> None:
    with pytest.raises(InvalidInput):
        tray_page(ACCOUNTS, ME, position, 2)
