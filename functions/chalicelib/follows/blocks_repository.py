"""The blocks table: who blocked whom.

- One item per (blocker, blocked): partition ``blocker_id``, sort key ``blocked_id``, so
  "has A blocked B" is one key, and a page's "which of these authors blocked the viewer" is
  one key per author, read in the page's own BatchGetItem (``block_reads``).
- "whom did A block", newest first: Query on the ``blocks_by_time`` LSI (keys only, which
  carries all three attributes).

Blocks guard the follow graph and direct messages inside their own transactions: every
follow, follow request, approval and message send carries ``require_no_block``'s two
ConditionChecks, so once a block is stored nothing new can pass between the two accounts,
with no extra request. A "who blocked me" index is not needed: every question is asked
with both ids in hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from datetime import datetime

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DeleteError, TransactWriteError
from pynamodb.indexes import KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model
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
from chalicelib.core.errors import DependencyUnavailable, NotAllowed, NotFound
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.users import repository as users

# The labels of ``require_no_block``'s two ConditionChecks, in the order it adds them:
# the target has blocked the actor; the actor has blocked the target.
BLOCK_CHECKS = ("blocked", "blocking")
NO_USER = "no user with that id"


class BlocksByTime(LocalSecondaryIndex["BlockItem"]):
    class Meta:
        index_name = "blocks_by_time"
        projection = KeysOnlyProjection()

    blocker_id = UnicodeAttribute(hash_key=True)
    blocked_at = UnicodeAttribute(range_key=True)


class BlockItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("blocks_table")

    blocker_id = UnicodeAttribute(hash_key=True)
    blocked_id = UnicodeAttribute(range_key=True)
    blocked_at = UnicodeAttribute()  # ISO-8601 with milliseconds: sorts by time

    blocks_by_time = BlocksByTime()


def add_block(blocker_id: str, blocked_id: str, at: datetime) -> bool:
    """Store the block, only if the blocked account exists (one transaction: a
    ConditionCheck and the put). True when stored now; False when it existed already (its
    first time is kept). ``NotFound`` when there is no such account."""

    def build(transaction: TransactWrite) -> None:
        users.require_user(transaction, blocked_id)
        transaction.save(
            BlockItem(blocker_id, blocked_id, blocked_at=iso(at)),
            condition=BlockItem.blocker_id.does_not_exist(),
        )

    try:
        transact(build)
        return True
    except TransactWriteError as exc:
        failed = failed_items(exc, ["user", "block"])
        if "user" in failed:
            raise NotFound(NO_USER) from exc
        if "block" in failed:
            return False
        raise DependencyUnavailable("could not block the account; retry shortly") from exc


def remove_block(blocker_id: str, blocked_id: str) -> bool:
    """Delete the block; False when there was none."""
    try:
        BlockItem(blocker_id, blocked_id).delete(condition=BlockItem.blocker_id.exists())
        return True
    except DeleteError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise DependencyUnavailable("could not unblock the account; retry shortly") from exc


def blocked_page(blocker_id: str, page: PageRequest) -> Page[str]:
    """Ids of the accounts ``blocker_id`` blocked, most recently blocked first."""
    results = BlockItem.blocks_by_time.query(
        blocker_id, scan_index_forward=False, limit=page.limit, last_evaluated_key=page.position
    )
    return page_of(
        results, lambda item: item.blocked_id, "could not list blocked accounts; retry shortly"
    )


# --- as part of other families' transactions and reads ---------------------------------------


def require_no_block(transaction: TransactWrite, actor_id: str, target_id: str) -> None:
    """Make ``transaction`` fail if either account blocked the other: two ConditionChecks,
    labelled ``BLOCK_CHECKS`` in this order (PynamoDB sends condition checks first, in the
    order they were added). ``refuse_if_blocked`` says what a failure means."""
    for blocker_id, blocked_id in ((target_id, actor_id), (actor_id, target_id)):
        transaction.condition_check(
            BlockItem, blocker_id, blocked_id, condition=BlockItem.blocker_id.does_not_exist()
        )


def refuse_if_blocked(failed: Set[str]) -> None:
    """Turn a failed ``require_no_block`` into what the actor is told: the target blocked
    them, ``NotFound`` (as if the account did not exist); they blocked the target,
    ``NotAllowed`` (unblocking comes first)."""
    blocked, blocking = BLOCK_CHECKS
    if blocked in failed:
        raise NotFound(NO_USER)
    if blocking in failed:
        raise NotAllowed("you blocked this account: unblock it first")


def block_reads(pairs: Iterable[tuple[str, str]], consistent: bool = False) -> BatchRead:
    """Blocks by (blocker, blocked), as one table's part of another family's multi-table
    BatchGetItem (keys only)."""
    return batch_read(
        BlockItem,
        dict.fromkeys(pairs),
        attributes=["blocker_id", "blocked_id"],
        consistent=consistent,
    )


def blocks_found(found: Mapping[str, list[RawItem]]) -> set[tuple[str, str]]:
    """The (blocker, blocked) pairs that ``block_reads`` found, from a multi-table
    BatchGetItem's answer (by table name)."""
    items = (BlockItem.from_raw_data(raw) for raw in found.get(BlockItem.Meta.table_name, []))
    return {(item.blocker_id, item.blocked_id) for item in items}


def blockers_of(viewer_id: str, user_ids: Iterable[str]) -> set[str]:
    """Which of ``user_ids`` blocked the viewer, in one BatchGetItem (keys (user, viewer));
    no request when there is nobody to ask about."""
    pairs = [(user_id, viewer_id) for user_id in dict.fromkeys(user_ids) if user_id != viewer_id]
    if not pairs:
        return set()
    found = batch_get([block_reads(pairs)])
    return {blocker_id for blocker_id, _ in blocks_found(found)}
