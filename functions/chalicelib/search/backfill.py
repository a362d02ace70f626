"""Index every existing user and post: run once when a stage moves to a new search index.

The streams carry changes only, so a stage pointed at a new OpenSearch domain finds nothing
made before the switch until this has run. It Scans the users and posts tables (a one-off
job, never a request path) and sends bulk requests of ``BATCH`` documents; running it again,
or while new posts arrive, is safe (every write replaces, every count is keyed by post).

    cd functions && python -m chalicelib.search.backfill   # with the stage's environment
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import batched

from chalicelib.core.clock import iso
from chalicelib.core.observability import logger
from chalicelib.posts import repository as posts
from chalicelib.posts.domain import Post
from chalicelib.search.domain import PostDocument, UserDocument
from chalicelib.search.index import search_index
from chalicelib.search.port import SearchIndex
from chalicelib.users import repository as users

BATCH = 500


def post_document(post: Post) -> PostDocument:
    return PostDocument(
        post_id=post.post_id,
        author_id=post.author_id,
        created_at=iso(post.created_at),
        caption=post.caption,
        hashtags=post.hashtags,
        location=post.location,
    )


def backfill(index: SearchIndex) -> dict[str, int]:
    """Index every user and post; returns how many of each."""
    counted = {"users": 0, "posts": 0}
    for user_batch in batched(_users(), BATCH):
        index.bulk_index(user_batch, ())
        counted["users"] += len(user_batch)
    for post_batch in batched(_posts(), BATCH):
        index.bulk_index((), post_batch)
        counted["posts"] += len(post_batch)
    logger.info("search backfill done", users=counted["users"], posts=counted["posts"])
    return counted


def _users() -> Iterator[UserDocument]:
    for user in users.all_users():
        yield UserDocument(user.user_id, user.username, user.full_name)


def _posts() -> Iterator[PostDocument]:
    for post in posts.all_posts():
        yield post_document(post)


if __name__ == "__main__":
    print(backfill(search_index()))
