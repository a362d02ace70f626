"""The follow graph: one item per edge, shaped for the questions the app asks.

- "does A follow B": GetItem on (follower_id=A, followee_id=B).
- "every follower of X, page by page", newest first: Query on the ``followers_by_time`` GSI
  (keys only, so a page of ids costs little; the feed fan-out asks exactly this).
- "whom does A follow", newest first: Query on the ``following_by_time`` LSI.
The counters on both users change in the same transaction as the edge, conditioned on the
edge's existence, so they stay equal to the edges stored however many requests race.

Follow requests (``requests_repository``) become edges here: a request is stored with its
notification only while the target is private and no edge exists, and an approval deletes
the request and its notification in the transaction that makes the edge, so a request and
an edge never exist for one pair at once, and an approval counts once.

Blocks (``blocks_repository``) guard both: every transaction that makes an edge or a
request also checks that neither account blocked the other, so once a block is stored
nothing new passes between them, and the block's own clean-up removes what was there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

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
    batch_get,
    batch_read,
    failed_items,
    page_of,
    transact,
)
from chalicelib.core.errors import DependencyUnavailable, NotFound
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.follows import blocks_repository as blocks
from chalicelib.follows import requests_repository as requests
from chalicelib.follows.domain import FollowOutcome, FollowRequest, RequestOutcome
from chalicelib.limits import repository as limits
from chalicelib.limits.domain import Action
from chalicelib.notifications import repository as notifications
from chalicelib.notifications.domain import Notification
from chalicelib.users import repository as users
from chalicelib.users.domain import Relationship, User


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


def add_follow(follower_id: str, followee_id: str, at: datetime) -> FollowOutcome:
    """Store the edge, count it and charge the follower's daily follow limit, only while the
    followee is public: the privacy read before this call may be stale by the time the
    transaction runs, so the transaction itself checks it (as ``request_follow`` checks the
    opposite).

    Returns DONE when stored; EXISTS when the edge existed (nothing changes); PRIVATE when
    the account is private now (nothing changes: ask to follow instead). NotFound when there
    is no such account or it blocked the follower; NotAllowed when the follower blocked it;
    ``RateLimited`` when the follower is at the limit.
    """

    def build(transaction: TransactWrite) -> None:
        _add_edge(transaction, follower_id, followee_id, at, followee_public=True)
        limits.charge(transaction, follower_id, Action.FOLLOWS, at)  # last

    labels = [*blocks.BLOCK_CHECKS, "edge", "follower", "followee", "limit"]
    try:
        transact(build)
        return FollowOutcome.DONE
    except TransactWriteError as exc:
        failed = failed_items(exc, labels)
        blocks.refuse_if_blocked(failed)
        if "follower" in failed:
            raise NotFound("no user with that id") from exc
        if "followee" in failed:
            if not users.user_exists(followee_id):
                raise NotFound("no user with that id") from exc
            return FollowOutcome.PRIVATE
        if "edge" in failed:
            return FollowOutcome.EXISTS
        limits.refuse_if_exceeded(exc, Action.FOLLOWS, at)
        raise DependencyUnavailable("could not change the follow; retry shortly") from exc


def _add_edge(
    transaction: TransactWrite,
    follower_id: str,
    followee_id: str,
    at: datetime,
    *,
    followee_public: bool,
) -> None:
    """The follow itself: the edge (a put, unless it exists) and both counters (updates, on
    users that exist; with ``followee_public``, on a followee that is still public), never
    between accounts where either blocked the other (two ConditionChecks, labelled
    ``blocks.BLOCK_CHECKS``, sent first). Every way an edge is made (a follow, an approval)
    goes through here."""
    blocks.require_no_block(transaction, follower_id, followee_id)
    edge = FollowItem(follower_id, followee_id, followed_at=iso(at))
    transaction.save(edge, condition=FollowItem.follower_id.does_not_exist())
    users.add_count_changes(transaction, follower_id, following_count=1)
    users.add_count_changes(
        transaction, followee_id, while_public=followee_public, follower_count=1
    )


def remove_follow(follower_id: str, followee_id: str) -> bool:
    """Delete the edge and uncount it; False when there was none (nothing changes)."""

    def build(transaction: TransactWrite) -> None:
        transaction.delete(
            FollowItem(follower_id, followee_id), condition=FollowItem.follower_id.exists()
        )
        users.add_count_changes(transaction, follower_id, following_count=-1)
        users.add_count_changes(transaction, followee_id, follower_count=-1)

    try:
        transact(build)
        return True
    except TransactWriteError as exc:
        failed = failed_items(exc, ["edge", "follower", "followee"])
        if "followee" in failed or "follower" in failed:
            raise NotFound("no user with that id") from exc
        if "edge" in failed:
            return False
        raise DependencyUnavailable("could not change the follow; retry shortly") from exc


def relationship(viewer_id: str, user_id: str) -> Relationship:
    """Both directions between two users (follows and blocks), and the viewer's pending
    request to follow the user, in one BatchGetItem (five keys over three tables)."""
    found = batch_get(_relationship_reads(viewer_id, user_id))
    return _relationship_in(found, viewer_id, user_id)


def profile_and_relationship(viewer_id: str, user_id: str) -> tuple[User | None, Relationship]:
    """The user's profile (None when there is no such user) and ``relationship``, in one
    BatchGetItem: every fact deciding whether the viewer may see the user's content."""
    profile_read = users.user_reads([user_id])
    found = batch_get([profile_read, *_relationship_reads(viewer_id, user_id)])
    profiles = [users.user_from_raw(raw) for raw in found.get(profile_read.table_name, [])]
    # An account waiting for its emailed code is no one's to see yet.
    profiles = [profile for profile in profiles if profile.confirmed]
    return (profiles[0] if profiles else None), _relationship_in(found, viewer_id, user_id)


def _relationship_reads(viewer_id: str, user_id: str) -> list[BatchRead]:
    return [
        edge_reads(viewer_id, [user_id]),
        edge_reads(user_id, [viewer_id]),
        requests.request_reads([(user_id, viewer_id)]),
        blocks.block_reads([(viewer_id, user_id), (user_id, viewer_id)]),
    ]


def _relationship_in(found: dict[str, list[RawItem]], viewer_id: str, user_id: str) -> Relationship:
    edges = {
        (item.follower_id, item.followee_id)
        for item in (FollowItem.from_raw_data(raw) for raw in found[FollowItem.Meta.table_name])
    }
    asked = requests.requests_found(found)
    blocked = blocks.blocks_found(found)
    return Relationship(
        followed_by_me=(viewer_id, user_id) in edges,
        follows_me=(user_id, viewer_id) in edges,
        follow_requested_by_me=(user_id, viewer_id) in asked,
        blocked_by_me=(viewer_id, user_id) in blocked,
        blocks_me=(user_id, viewer_id) in blocked,
    )


def is_following(follower_id: str, followee_id: str, consistent: bool = False) -> bool:
    try:
        FollowItem.get(
            follower_id,
            followee_id,
            attributes_to_get=["follower_id"],
            consistent_read=consistent,
        )
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
    return page_of(results, pick, "could not read the follow graph; retry shortly")


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


# --- follow requests ---------------------------------------------------------------------


def request_follow(request: FollowRequest, notice: Notification, ttl: timedelta) -> RequestOutcome:
    """Store a pending request and its notification together, only while the target is
    private, the requester does not follow it and neither blocked the other.

    Returns DONE when stored; EXISTS when a request was pending already (nothing changes, so
    asking twice notifies once); FOLLOWING when an edge exists; NOT_PRIVATE when the target
    is public (now): the caller follows at once instead. NotFound when there is no target,
    or it blocked the requester; NotAllowed when the requester blocked it.
    """

    def build(transaction: TransactWrite) -> None:
        users.require_private(transaction, request.target_id)
        transaction.condition_check(
            FollowItem,
            request.requester_id,
            request.target_id,
            condition=FollowItem.follower_id.does_not_exist(),
        )
        blocks.require_no_block(transaction, request.requester_id, request.target_id)
        requests.add_request(transaction, request)
        notifications.add_store(transaction, notice, ttl)
        # Asking counts against the daily follow limit as following does; approving does not.
        limits.charge(transaction, request.requester_id, Action.FOLLOWS, asked_at)  # last

    asked_at = datetime.fromisoformat(request.requested_at)
    try:
        transact(build)
        return RequestOutcome.DONE
    except TransactWriteError as exc:
        labels = ["account", "edge", *blocks.BLOCK_CHECKS, "request", "notification", "limit"]
        failed = failed_items(exc, labels)
        blocks.refuse_if_blocked(failed)
        if "edge" in failed:
            return RequestOutcome.FOLLOWING
        if "account" in failed:
            if not users.user_exists(request.target_id):
                raise NotFound("no user with that id") from exc
            return RequestOutcome.NOT_PRIVATE
        if "request" in failed:
            return RequestOutcome.EXISTS
        limits.refuse_if_exceeded(exc, Action.FOLLOWS, asked_at)
        raise DependencyUnavailable("could not ask to follow; retry shortly") from exc


def approve_request(request: FollowRequest, notice: Notification, at: datetime) -> RequestOutcome:
    """Turn exactly this request into a follow, in one transaction: the request and its
    notification go, the edge and both counters come, as ``add_follow`` makes them.

    Returns DONE when this call approved it; CHANGED when the request is gone or was made
    again meanwhile (read it again); FOLLOWING when the requester followed already (then the
    request is discarded, and the follow counted once). NotFound when a user is gone, or
    when either blocked the other (the request is discarded: a block ends every request).
    """

    def build(transaction: TransactWrite) -> None:
        requests.add_removal(transaction, request)
        notifications.add_withdrawal(transaction, notice)
        _add_edge(transaction, request.requester_id, request.target_id, at, followee_public=False)

    try:
        transact(build)
        return RequestOutcome.DONE
    except TransactWriteError as exc:
        labels = [*blocks.BLOCK_CHECKS, "request", "notification", "edge", "follower", "followee"]
        failed = failed_items(exc, labels)
        if "request" in failed:
            return RequestOutcome.CHANGED
        if failed & set(blocks.BLOCK_CHECKS):
            discard_request(request, notice)
            raise NotFound("no pending follow request from that user") from exc
        if "edge" in failed:
            discard_request(request, notice)
            return RequestOutcome.FOLLOWING
        if "follower" in failed or "followee" in failed:
            raise NotFound("no user with that id") from exc
        raise DependencyUnavailable("could not approve the request; retry shortly") from exc


def discard_request(request: FollowRequest, notice: Notification) -> RequestOutcome:
    """Delete exactly this request and its notification (declined, or withdrawn by the
    requester). DONE when this call deleted it; CHANGED when it is gone or was made again."""

    def build(transaction: TransactWrite) -> None:
        requests.add_removal(transaction, request)
        notifications.add_withdrawal(transaction, notice)

    try:
        transact(build)
        return RequestOutcome.DONE
    except TransactWriteError as exc:
        if "request" in failed_items(exc, ["request", "notification"]):
            return RequestOutcome.CHANGED
        raise DependencyUnavailable("could not remove the request; retry shortly") from exc
