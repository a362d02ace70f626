"""The follow_requests table: pending requests to follow private accounts.

- One item per (target, requester): partition ``target_id`` (the private account), sort key
  ``requester_id``, so "has B asked to follow A" is one GetItem and a request is stored once
  however often it is made.
- "A's pending requests by time": Query on the ``requests_by_time`` LSI (keys only, which
  carries all three attributes); reversed for the newest-first list, forwards (up to a time)
  when an account going public approves them. Local, so it can be read consistently.

Requests are written in transactions that other repositories compose (the follows
repository: a request with its notification; an approval with the edge and its counters),
through the ``add_*`` functions here; only this module knows the item.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import GetError, PynamoDBException
from pynamodb.indexes import KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.dynamodb import BaseMeta, BatchRead, FromSettings, RawItem, batch_read, page_of
from chalicelib.core.errors import DependencyUnavailable
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.follows.domain import FollowRequest


class RequestsByTime(LocalSecondaryIndex["FollowRequestItem"]):
    class Meta:
        index_name = "requests_by_time"
        projection = KeysOnlyProjection()

    target_id = UnicodeAttribute(hash_key=True)
    requested_at = UnicodeAttribute(range_key=True)


class FollowRequestItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("follow_requests_table")

    target_id = UnicodeAttribute(hash_key=True)
    requester_id = UnicodeAttribute(range_key=True)
    requested_at = UnicodeAttribute()  # ISO-8601 with milliseconds: sorts by time

    requests_by_time = RequestsByTime()


def _to_request(item: FollowRequestItem) -> FollowRequest:
    return FollowRequest(item.target_id, item.requester_id, item.requested_at)


def add_request(transaction: TransactWrite, request: FollowRequest) -> None:
    """Store the request as part of ``transaction``, unless one is pending already (its
    condition then fails the transaction)."""
    transaction.save(
        FollowRequestItem(
            request.target_id, request.requester_id, requested_at=request.requested_at
        ),
        condition=FollowRequestItem.target_id.does_not_exist(),
    )


def add_removal(transaction: TransactWrite, request: FollowRequest) -> None:
    """Delete exactly this request as part of ``transaction``: the condition fails when it
    is gone, or was withdrawn and made again (a new time, and so a new notification)."""
    transaction.delete(
        FollowRequestItem(request.target_id, request.requester_id),
        condition=FollowRequestItem.requested_at == request.requested_at,
    )


def get_request(target_id: str, requester_id: str) -> FollowRequest | None:
    """The pending request, read consistently (it decides an approval), or None."""
    try:
        return _to_request(FollowRequestItem.get(target_id, requester_id, consistent_read=True))
    except FollowRequestItem.DoesNotExist:
        return None
    except GetError as exc:
        raise DependencyUnavailable("could not read the follow request; retry shortly") from exc


def requests_page(target_id: str, page: PageRequest) -> Page[str]:
    """Ids of the accounts asking to follow ``target_id``, newest request first."""
    results = FollowRequestItem.requests_by_time.query(
        target_id, scan_index_forward=False, limit=page.limit, last_evaluated_key=page.position
    )
    return page_of(
        results, lambda item: item.requester_id, "could not read follow requests; retry shortly"
    )


def oldest_requests(target_id: str, made_until: str, limit: int) -> list[FollowRequest]:
    """Up to ``limit`` of the target's requests made at or before ``made_until``, oldest
    first, read consistently (an account going public approves them page by page)."""
    results = FollowRequestItem.requests_by_time.query(
        target_id,
        FollowRequestItem.requested_at <= made_until,
        consistent_read=True,
        limit=limit,
    )
    try:
        return [_to_request(item) for item in results]
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read follow requests; retry shortly") from exc


def request_reads(pairs: Iterable[tuple[str, str]]) -> BatchRead:
    """Requests by (target, requester), as one table's part of another family's
    multi-table BatchGetItem (keys only)."""
    return batch_read(
        FollowRequestItem, dict.fromkeys(pairs), attributes=["target_id", "requester_id"]
    )


def requests_found(found: Mapping[str, list[RawItem]]) -> set[tuple[str, str]]:
    """The (target, requester) pairs that ``request_reads`` found, from a multi-table
    BatchGetItem's answer (by table name)."""
    items = (FollowRequestItem.from_raw_data(raw) for raw in found.get(_table(), []))
    return {(item.target_id, item.requester_id) for item in items}


def _table() -> str:
    return FollowRequestItem.Meta.table_name
