"""The search index port: what the service asks of whichever index a stage runs.

Two adapters implement it: ``DynamoDBSearchIndex`` (the default: the local stack and small
deployments, no search server at all) and ``OpenSearchIndex`` (Amazon OpenSearch, when
``OPENSEARCH_ENDPOINT`` is set). One contract test class runs against both.

Writes come from stream records and may repeat: each must be idempotent (indexing the same
document twice, or removing one that is gone, changes nothing). Reads return ids and
positions only; the service reads the items themselves (one BatchGetItem), so what a list
shows is always current (a deleted post is gone from the next read, whatever the index says).
Positions are the adapter's own (JSON objects); the API signs them into cursors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chalicelib.core.pagination import Page, PageRequest
from chalicelib.search.domain import HashtagCount, PostDocument, PostQuery, UserDocument


class SearchIndex(Protocol):
    """Parameters named ``prefix``, ``tag`` and ``query`` are normalised already
    (``search.domain``); results are at most ``page.limit`` long."""

    name: str  # names the adapter in cursors, so one adapter's position never reaches another

    def index_user(self, user: UserDocument) -> None:
        """Make the user findable by their current names (replacing earlier names)."""
        ...

    def remove_user(self, user_id: str) -> None: ...

    def index_post(self, post: PostDocument, previous: PostDocument | None = None) -> None:
        """Make the post findable; ``previous`` is what was indexed before an edit (its tags
        and words that are gone are removed, and its tags uncounted)."""
        ...

    def remove_post(self, post: PostDocument) -> None:
        """Remove the post (as it was last indexed) and uncount its tags."""
        ...

    def bulk_index(self, users: Sequence[UserDocument], posts: Sequence[PostDocument]) -> None:
        """Index many new documents at once (the backfill), as few requests as the index
        allows."""
        ...

    def search_users(self, prefix: str, page: PageRequest) -> Page[str]:
        """Ids of users with a name term starting with ``prefix``, each once."""
        ...

    def search_hashtags(self, prefix: str, page: PageRequest) -> Page[HashtagCount]:
        """Tags starting with ``prefix`` that some post carries, in tag order, with counts."""
        ...

    def search_posts(self, query: PostQuery, page: PageRequest) -> Page[str]:
        """Ids of posts matching every tag and word of the query, newest first."""
        ...

    def hashtag_posts(self, tag: str, page: PageRequest) -> Page[str]:
        """Ids of the posts carrying ``tag``, newest first."""
        ...
