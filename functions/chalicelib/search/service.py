"""Searching users, hashtags and posts, and a hashtag's posts, as one viewer sees them.

The index (``search.index``) answers ids; what a list shows is read fresh: users in one
BatchGetItem (and their blocks of the viewer in one more, ``visibility.blockers_of``), posts
through the posts' own hydration (one BatchGetItem of the posts, their authors, the viewer's
likes and the authors' follow and block edges), so search results are posts exactly as the
feed renders them, a deleted post is gone from the next read whatever the index still holds,
private accounts' posts reach only their approved followers, and whoever blocked the viewer
is left out of both, they and their posts (``posts.visibility``).

A page the viewer may not see all of is topped up from the index, up to
``MAX_INDEX_READS_PER_PAGE`` reads; the cursor carries on after the last item examined.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chalicelib.core.observability import logger
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.posts import service as posts
from chalicelib.posts import visibility
from chalicelib.posts.domain import PostView
from chalicelib.search import domain
from chalicelib.search.domain import Found, SearchType
from chalicelib.search.index import search_index
from chalicelib.users import repository as users
from chalicelib.users.domain import User

MAX_INDEX_READS_PER_PAGE = 3


def search_scope(kind: SearchType, q: str) -> str:
    """The list a search cursor belongs to: this adapter, this type, this query."""
    return f"search:{search_index().name}:{kind.value}:{domain.normalise(q)}"


def hashtag_scope(tag: str) -> str:
    return f"hashtag:{search_index().name}:{tag}"


def search(viewer_id: str, kind: SearchType, q: str, page: PageRequest) -> Page[Found]:
    """``GET /search``: users by name prefix, hashtags by prefix with their post counts, or
    posts by words, ``#tags`` and places, newest first."""
    index = search_index()
    if kind is SearchType.USERS:
        prefix = domain.user_prefix(q)
        if prefix is None:
            return Page([], None)
        return _filled(
            lambda part: index.search_users(prefix, part),
            lambda user_ids: _users(viewer_id, user_ids),
            page,
        )
    if kind is SearchType.HASHTAGS:
        tag_prefix = domain.hashtag_prefix(q)
        if tag_prefix is None:
            return Page([], None)
        tags = index.search_hashtags(tag_prefix, page)
        return Page(list(tags.items), tags.position)
    query = domain.post_query(q)
    if query is None:
        return Page([], None)
    logger.info("posts searched", tags=len(query.tags), words=len(query.words))
    return _filled(
        lambda part: index.search_posts(query, part),
        lambda post_ids: posts.hydrate(viewer_id, post_ids, visible_only=True),
        page,
    )


def hashtag_posts(viewer_id: str, tag: str, page: PageRequest) -> Page[PostView]:
    """``GET /hashtags/{tag}/posts``: the posts carrying ``tag`` the viewer may see, newest
    first. A tag nobody used is an empty list."""
    return _filled(
        lambda part: search_index().hashtag_posts(tag, part),
        lambda post_ids: posts.hydrate(viewer_id, post_ids, visible_only=True),
        page,
    )


def _filled[T, O](
    read: Callable[[PageRequest], Page[T]],
    show: Callable[[list[T]], Sequence[O]],
    page: PageRequest,
) -> Page[O]:
    """Read ids from the index and keep what the viewer may see, until the page is full, the
    index has no more, or ``MAX_INDEX_READS_PER_PAGE`` reads were made."""
    shown: list[O] = []
    position = page.position
    for _ in range(MAX_INDEX_READS_PER_PAGE):
        found = read(PageRequest(page.limit - len(shown), position))
        shown += show(found.items)
        position = found.position
        if position is None or len(shown) >= page.limit:
            break
    return Page(shown, position)


def _users(viewer_id: str, user_ids: Sequence[str]) -> list[User]:
    """Profiles in the index's order, each once; accounts that are gone, or that blocked
    the viewer, are left out."""
    ids = list(dict.fromkeys(user_ids))
    found = users.get_users(ids)
    hidden = visibility.blockers_of(viewer_id, ids)
    return [found[u] for u in ids if u in found and u not in hidden]
