"""The follow graph: one item per edge, shaped for the questions the app asks.

- "does A follow B": GetItem on (follower_id=A, followee_id=B).
- "every follower of X, page by page", newest first: Query on the ``followers_by_time`` GSI
  (keys only, so a page of ids costs little; the feed fan-out asks exactly this).
- "whom does A follow", newest first: Query on the ``following_by_time`` LSI.
The counters on both users change in the same transaction as the edge, conditioned on the
edge's existence, so they stay equal to the edges stored however many requests race.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model
from pynamodb.pagination import ResultIterator
from pynamodb.transactions import TransactWrite

from chalicelib.core.clock import iso
from chalicelib.core.dynamodb import (
    BaseMeta,
    BatchRead,
    FromSettings,
    RawItem,
    batch_read,
    failed_items,
    transact,
)
from chalicelib.core.errors import DependencyUnavailable, NotFound
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.users import repository as users
from chalicelib.users.domain import Relationship


class FollowersByTime(GlobalSecondaryIndex["FollowItem"]):
    class Meta:
        index_name = "followers_by_time"
        projection = KeysOnlyProjection()

    followee_id = UnicodeAttribute(hash_key=True)
    followed_at = UnicodeAttribute(range_key=True)


class FollowingByTime(LocalSecondaryIndex["FollowItem"]):
    class Meta:
        index_name = "following_by_time"
        projection = KeysOnlyProjection()

    follower_id = UnicodeAttribute(hash_key=True)
    followed_at = UnicodeAttribute(range_key=True)


class CelebritiesFollowed(GlobalSecondaryIndex["FollowItem"]):
    class Meta:
        index_name = "celebrities_followed"
        projection = KeysOnlyProjection()

    celebrity_follower_id = UnicodeAttribute(hash_key=True)
    followee_id = UnicodeAttribute(range_key=True)


class FollowItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("follows_table")

    follower_id = UnicodeAttribute(hash_key=True)
    followee_id = UnicodeAttribute(range_key=True)
    followed_at = UnicodeAttribute()  # ISO-8601 with milliseconds: sorts by time
    # A copy of follower_id, present only when the followee is a celebrity (sparse index).
    celebrity_follower_id = UnicodeAttribute(null=True)

    followers_by_time = FollowersByTime()
    following_by_time = FollowingByTime()
    celebrities_followed = CelebritiesFollowed()


def add_follow(follower_id: str, followee_id: str, at: datetime) -> bool:
    """Store the edge and count it; False when it already existed (nothing changes)."""
    edge = FollowItem(follower_id, followee_id, followed_at=iso(at))

    def build(transaction: TransactWrite) -> None:
        transaction.save(edge, condition=FollowItem.follower_id.does_not_exist())
        users.add_count_changes(transaction, follower_id, following_count=1)
        users.add_count_changes(transaction, followee_id, follower_count=1)

    return _change_edge(build, ["edge", "follower", "followee"])


def remove_follow(follower_id: str, followee_id: str) -> bool:
    """Delete the edge and uncount it; False when there was none (nothing changes)."""

    def build(transaction: TransactWrite) -> None:
        transaction.delete(
            FollowItem(follower_id, followee_id), condition=FollowItem.follower_id.exists()
        )
        users.add_count_changes(transaction, follower_id, following_count=-1)
        users.add_count_changes(transaction, followee_id, follower_count=-1)

    return _change_edge(build, ["edge", "follower", "followee"])


def _change_edge(build: Callable[[TransactWrite], None], labels: list[str]) -> bool:
    try:
        transact(build)
        return True
    except TransactWriteError as exc:
        failed = failed_items(exc, labels)
        if "followee" in failed or "follower" in failed:
            raise NotFound("no user with that id") from exc
        if "edge" in failed:
            return False
        raise DependencyUnavailable("could not change the follow; retry shortly") from exc


def relationship(viewer_id: str, user_id: str) -> Relationship:
    """Both directions between two users in one BatchGetItem."""
    try:
        edges = {
            (item.follower_id, item.followee_id)
            for item in FollowItem.batch_get(
                [(viewer_id, user_id), (user_id, viewer_id)],
                attributes_to_get=["follower_id", "followee_id"],
            )
        }
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read the follow graph; retry shortly") from exc
    return Relationship(
        followed_by_me=(viewer_id, user_id) in edges, follows_me=(user_id, viewer_id) in edges
    )


def is_following(follower_id: str, followee_id: str) -> bool:
    try:
        FollowItem.get(follower_id, followee_id, attributes_to_get=["follower_id"])
        return True
    except FollowItem.DoesNotExist:
        return False


def followers_page(user_id: str, page: PageRequest) -> Page[str]:
    """Ids of the accounts following ``user_id``, newest first."""
    results = FollowItem.followers_by_time.query(
        user_id, scan_index_forward=False, limit=page.limit, last_evaluated_key=page.position
    )
    return _page_of(results, lambda item: item.follower_id)


def following_page(user_id: str, page: PageRequest) -> Page[str]:
    """Ids of the accounts ``user_id`` follows, newest first."""
    results = FollowItem.following_by_time.query(
        user_id, scan_index_forward=False, limit=page.limit, last_evaluated_key=page.position
    )
    return _page_of(results, lambda item: item.followee_id)


def _page_of(results: ResultIterator[FollowItem], pick: Callable[[FollowItem], str]) -> Page[str]:
    try:
        ids = [pick(item) for item in results]
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read the follow graph; retry shortly") from exc
    return Page(ids, results.last_evaluated_key)


def tag_celebrity_edge(follower_id: str, followee_id: str) -> None:
    """Put the edge in the sparse celebrities index; an edge deleted meanwhile stays deleted."""
    try:
        FollowItem(follower_id, followee_id).update(
            actions=[FollowItem.celebrity_follower_id.set(follower_id)],
            condition=FollowItem.follower_id.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise DependencyUnavailable("could not tag the follow") from exc


def celebrities_followed_by(user_id: str, limit: int) -> list[str]:
    """The celebrities ``user_id`` follows, in one Query of the sparse index."""
    try:
        return [
            item.followee_id for item in FollowItem.celebrities_followed.query(user_id, limit=limit)
        ]
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read the follow graph; retry shortly") from exc


def edge_reads(follower_id: str, followee_ids: Iterable[str]) -> BatchRead:
    """The edges from ``follower_id`` to each followee, as part of another family's
    multi-table BatchGetItem (keys only)."""
    keys = [(follower_id, followee_id) for followee_id in dict.fromkeys(followee_ids)]
    return batch_read(FollowItem, keys, attributes=["follower_id", "followee_id"])


def followee_from_raw(raw: RawItem) -> str:
    """The followee of an edge that ``edge_reads`` found."""
    return FollowItem.from_raw_data(raw).followee_id
