"""Who may see whose posts: the one place that decides it.

A single post, a profile's grid, search results and hashtag pages all ask here. Today: the
author; anyone for a public account; approved followers for a private one (a follow edge
exists only once a follow is approved). Blocks plug in through ``blockers_of``.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.users.domain import User


def blockers_of(viewer_id: str, user_ids: Iterable[str]) -> set[str]:
    """The accounts among ``user_ids`` that have blocked the viewer: the hook for blocks.

    Blocks do not exist yet, so this is empty. Issue 9 (blocks) fills it in, reading the
    block edges with the page's other facts; whoever blocked the viewer is then left out of
    every list the viewer reads (search results, hashtag pages) and their posts are hidden.
    """
    return set()


def may_see_posts(
    viewer_id: str, author: User, viewer_follows_author: bool, blocked_by_author: bool = False
) -> bool:
    """The decision itself, over facts the caller has read, so a page of posts by many
    authors is decided from one BatchGetItem."""
    if viewer_id == author.user_id:
        return True
    if blocked_by_author:
        return False
    if author.is_private:
        return viewer_follows_author
    return True
