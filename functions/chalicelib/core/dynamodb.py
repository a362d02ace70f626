"""What every DynamoDB data layer shares: late-bound table names and transactions.

Only data-layer modules (``*/repository.py``) import this or pynamodb.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBConnectionError, PynamoDBException, TransactWriteError
from pynamodb.pagination import ResultIterator
from pynamodb.transactions import TransactWrite

from chalicelib.core.config import get_settings
from chalicelib.core.errors import DependencyUnavailable
from chalicelib.core.pagination import Page

TRANSACTION_ATTEMPTS = 8
# BatchGetItem takes at most 100 keys per call, across all its tables.
BATCH_GET_KEY_LIMIT = 100
BATCH_GET_ATTEMPTS = 8

RawKey = dict[str, dict[str, Any]]  # {"post_id": {"S": "..."}}: DynamoDB's wire shape
RawItem = dict[str, dict[str, Any]]


class FromSettings:
    """A PynamoDB ``Meta`` attribute read from the settings on every access.

    Models are defined at import time, before the local stack or a test has said which
    tables to use; reading late lets the same model serve every stage.
    """

    def __init__(self, field: str) -> None:
        self._field = field

    def __get__(self, instance: object, owner: type) -> Any:
        return getattr(get_settings(), self._field)


class BaseMeta:
    # None lets botocore resolve both from the environment: AWS_REGION, which Lambda sets,
    # and AWS_ENDPOINT_URL, which only the local stack and tests set.
    region = None
    host = None
    max_retry_attempts = 3
    connect_timeout_seconds = 2
    read_timeout_seconds = 5


@cache
def _connection(region: str) -> Connection:
    return Connection(region=region)


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """The reason code of each transaction item, in the order PynamoDB sent them.

    PynamoDB sends condition checks first, then deletes, then puts, then updates.
    """
    return [reason.code if reason else None for reason in (exc.cancellation_reasons or [])]


def transact(build: Callable[[TransactWrite], None], attempts: int = TRANSACTION_ATTEMPTS) -> None:
    """Run a write transaction, retrying when DynamoDB cancels it for a conflict.

    Concurrent transactions on one item (many people following one account) cancel each
    other with ``TransactionConflict``; botocore does not retry those, so we do, with
    jittered exponential backoff. Condition failures are raised for the caller to judge.

    Parameters
    ----------
    build:
        Adds the operations to the transaction; called again on every attempt.
    attempts:
        Tries before giving up with ``DependencyUnavailable``.
    """
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=_connection(get_settings().aws_region)) as transaction:
                build(transaction)
            return
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            conflicted = "TransactionConflict" in codes or exc.cause_response_code in (
                "TransactionInProgressException",
                "ThrottlingException",
                "ProvisionedThroughputExceededException",
            )
            if not conflicted or "ConditionalCheckFailed" in codes:
                raise
            time.sleep(random.uniform(0, min(0.25, 0.01 * 2**attempt)))  # noqa: S311 - jitter, not crypto
        except PynamoDBConnectionError as exc:
            raise DependencyUnavailable("the database is unavailable; retry shortly") from exc
    raise DependencyUnavailable("too many concurrent changes to the same items; retry shortly")


def failed_items(exc: TransactWriteError, labels: Sequence[str]) -> set[str]:
    """Names of the items whose condition failed, given labels in PynamoDB's send order."""
    return {
        label
        for label, code in zip(labels, cancellation_codes(exc), strict=False)
        if code == "ConditionalCheckFailed"
    }


def cancelled_item(exc: TransactWriteError, labels: Sequence[str], label: str) -> RawItem | None:
    """The item as it was when ``label``'s condition failed, when that operation asked for it
    (``return_values="ALL_OLD"``) and the item existed; labels in PynamoDB's send order."""
    reasons = exc.cancellation_reasons or []
    position = list(labels).index(label)
    reason = reasons[position] if position < len(reasons) else None
    return reason.raw_item if reason is not None else None


def page_of[M, T](results: ResultIterator[M], pick: Callable[[M], T], failure: str) -> Page[T]:
    """One page of a PynamoDB query, each item ``pick``ed, and where the next page starts
    (``Page.position``); a read that fails is ``DependencyUnavailable(failure)``."""
    try:
        items = [pick(item) for item in results]
    except PynamoDBException as exc:
        raise DependencyUnavailable(failure) from exc
    return Page(items, results.last_evaluated_key)


@dataclass(frozen=True)
class BatchRead:
    """One table's part of a multi-table BatchGetItem.

    Repositories make these (``batch_read``) and turn the raw items back into their models
    (``Model.from_raw_data``), so PynamoDB models stay inside their own repository while one
    request reads several tables.

    Parameters
    ----------
    table_name:
        The table to read.
    keys:
        Raw keys; duplicates are dropped (DynamoDB refuses a batch that repeats a key).
    attributes:
        Attributes to return (a projection); the key attributes are always added. None: all.
    consistent:
        Strongly consistent reads (twice the read capacity), for a read right after a write.
    """

    table_name: str
    keys: tuple[RawKey, ...]
    attributes: tuple[str, ...] | None = None
    consistent: bool = False


def batch_read(
    model: Any,
    keys: Iterable[Any],
    attributes: Sequence[str] | None = None,
    consistent: bool = False,
) -> BatchRead:
    """A ``BatchRead`` of ``model``'s table; each key is a hash key or a (hash, range) pair."""
    hash_attribute = model._hash_key_attribute()
    range_attribute = model._range_key_attribute()

    def raw(attribute: Any, value: Any) -> dict[str, Any]:
        return {attribute.attr_type: attribute.serialize(value)}

    raw_keys = []
    for key in keys:
        if range_attribute is None:
            raw_keys.append({hash_attribute.attr_name: raw(hash_attribute, key)})
        else:
            raw_keys.append(
                {
                    hash_attribute.attr_name: raw(hash_attribute, key[0]),
                    range_attribute.attr_name: raw(range_attribute, key[1]),
                }
            )
    projection = tuple(attributes) if attributes is not None else None
    return BatchRead(model.Meta.table_name, tuple(raw_keys), projection, consistent)


@dataclass
class _TableRequest:
    """The merged reads of one table: its keys in first-asked order, projection, consistency."""

    keys: dict[str, RawKey]
    attributes: set[str] | None
    consistent: bool

    def add(self, read: BatchRead) -> None:
        self.consistent = self.consistent or read.consistent
        if read.attributes is None or self.attributes is None:
            self.attributes = None
        else:
            self.attributes.update(read.attributes)
        for key in read.keys:
            self.keys.setdefault(json.dumps(key, sort_keys=True), key)
            if self.attributes is not None:
                self.attributes.update(key)

    def request(self, keys: list[RawKey]) -> dict[str, Any]:
        request: dict[str, Any] = {"Keys": keys}
        if self.consistent:
            request["ConsistentRead"] = True
        if self.attributes is not None:
            names = {f"#a{index}": name for index, name in enumerate(sorted(self.attributes))}
            request["ProjectionExpression"] = ", ".join(names)
            request["ExpressionAttributeNames"] = names
        return request


def batch_get(
    reads: Sequence[BatchRead], attempts: int = BATCH_GET_ATTEMPTS
) -> dict[str, list[RawItem]]:
    """Read items of several tables in as few BatchGetItem calls as DynamoDB allows.

    PynamoDB's ``Model.batch_get`` reads one table per call; a page of posts needs the posts,
    their authors and the viewer's likes, so this sends them together: one call for up to
    ``BATCH_GET_KEY_LIMIT`` keys in all, one more per further hundred. Keys DynamoDB leaves
    unprocessed (throttling, the 16 MB response limit) go again, with jittered exponential
    backoff, in the next call.

    Parameters
    ----------
    reads:
        What to read from each table; reads of the same table are merged.
    attempts:
        Calls in a row that may leave keys unprocessed before giving up with
        ``DependencyUnavailable``.

    Returns
    -------
    The raw items found, by table name; keys with no item are absent (order not kept).
    """
    tables: dict[str, _TableRequest] = {}
    for read in reads:
        tables.setdefault(read.table_name, _TableRequest({}, set(), False)).add(read)
    pending = [(name, key) for name, table in tables.items() for key in table.keys.values()]

    found: dict[str, list[RawItem]] = {name: [] for name in tables}
    connection = _connection(get_settings().aws_region)
    stalled = 0
    while pending:
        chunk, pending = pending[:BATCH_GET_KEY_LIMIT], pending[BATCH_GET_KEY_LIMIT:]
        by_table: dict[str, list[RawKey]] = {}
        for name, key in chunk:
            by_table.setdefault(name, []).append(key)
        request = {name: tables[name].request(keys) for name, keys in by_table.items()}
        try:
            response = connection.dispatch("BatchGetItem", {"RequestItems": request})
        except (BotoCoreError, ClientError) as exc:
            raise DependencyUnavailable("the database is unavailable; retry shortly") from exc
        for name, items in (response.get("Responses") or {}).items():
            found.setdefault(name, []).extend(items)
        unprocessed = [
            (name, key)
            for name, left in (response.get("UnprocessedKeys") or {}).items()
            for key in left.get("Keys", [])
        ]
        if not unprocessed:
            stalled = 0
            continue
        stalled += 1
        if stalled >= attempts:
            raise DependencyUnavailable("the database is busy; retry shortly")
        time.sleep(random.uniform(0, min(0.25, 0.01 * 2**stalled)))  # noqa: S311 - jitter
        pending = unprocessed + pending
    return found
