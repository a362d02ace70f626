"""The one place that reaches into moto's internals. Each item says why it must;
``tests/integration/local/test_moto_patches.py`` fails when moto changes under it.
"""

from __future__ import annotations

import itertools
from typing import Any

# AWS expires a shard iterator 15 minutes after handing it out; moto keeps every one
# (about 2.5 KB each) forever, and a stream poller asks for a new one every poll, so a long
# `make run` would grow by tens of MB an hour per stream. Pollers always use the newest
# iterator, so dropping the oldest is what AWS's expiry would do.
MAX_SHARD_ITERATORS = 5_000


def trim_shard_iterators(limit: int = MAX_SHARD_ITERATORS) -> int:
    """Forget the oldest shard iterators beyond ``limit`` per region; returns how many."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    removed = 0
    for account in dynamodbstreams_backends.values():
        for backend in account.values():
            iterators = backend.shard_iterators  # insertion-ordered: oldest first
            excess = len(iterators) - limit
            for key in list(itertools.islice(iterators, max(0, excess))):
                del iterators[key]
                removed += 1
    return removed


# moto undoes a failed TransactWriteItems by restoring a deep copy of every table the
# transaction named, taken before it ran: each transaction costs a copy of whole tables (a DM
# send grew slower with every message stored), and a restored table carries a new stream
# shard, which silences stream readers. DynamoDB forbids two operations on one item in a
# transaction, so remembering just the items it names (and how long each stream was) is
# enough to undo it. The embedded AWS serialises requests, so swapping Table.__deepcopy__
# for the length of one call is never seen by another.


class _TouchedItems:
    """The items a transaction names, as they were before it, and each stream's length."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        self._items: list[tuple[Any, Any, Any, Any]] = []
        self._streams: dict[int, tuple[Any, int]] = {}
        for operation in transact_items:
            kind, request = next(iter(operation.items()))
            table = backend.tables.get(request.get("TableName"))
            if table is None:
                continue
            key = request.get("Key") or request.get("Item") or {}
            if table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = (
                DynamoType(key[table.range_key_attr])
                if table.range_key_attr and table.range_key_attr in key
                else None
            )
            self._items.append(
                (
                    table,
                    hash_value,
                    range_value,
                    # Only an update changes the stored item in place; a put or delete
                    # replaces or drops it, so the item itself is the "before".
                    _stored(table, hash_value, range_value, copy=kind == "Update"),
                )
            )
            shard = table.stream_shard
            if shard is not None:
                self._streams.setdefault(id(shard), (shard, len(shard.items)))

    def restore(self) -> None:
        for table, hash_value, range_value, before in reversed(self._items):
            if range_value is None:
                if before is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = before
            else:
                partition = table.items[hash_value]
                if before is None:
                    partition.pop(range_value, None)
                    if not partition:
                        table.items.pop(hash_value, None)
                else:
                    partition[range_value] = before
        for shard, length in self._streams.values():
            del shard.items[length:]


def _stored(table: Any, hash_value: Any, range_value: Any, copy: bool) -> Any:
    import copy as copying

    if range_value is None:
        found = table.items.get(hash_value) if hash_value in table.items else None
    else:
        found = table.items[hash_value].get(range_value) if hash_value in table.items else None
    return copying.deepcopy(found) if copy else found


def install_item_level_transaction_rollback() -> None:
    """Make moto undo a failed transaction item by item instead of table by table."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "item_level_rollback", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        touched = _TouchedItems(self, transact_items)
        # moto's "backup" keeps the same table. Table has no __deepcopy__ of its own for the
        # types to know: this one lives only for the call.
        Table.__deepcopy__ = lambda table, memo: table  # type: ignore[attr-defined]
        try:
            return original(self, transact_items)
        except Exception:
            touched.restore()
            raise
        finally:
            del Table.__deepcopy__  # type: ignore[attr-defined]

    transact_write_items.item_level_rollback = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# moto's server finds the backend for every request by listing moto's package directory
# (`backends.list_of_moto_modules`, an `os.listdir` plus an `isdir` per entry, ~190 of them):
# about a tenth of the embedded AWS's time under load. The directory does not change while
# the server runs, so the list is read once.


def cache_moto_module_list() -> None:
    """Make moto list its service modules once instead of on every request."""
    from moto import backends

    original = backends.list_of_moto_modules
    if getattr(original, "cached", False):
        return
    modules = tuple(original())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    list_of_moto_modules.cached = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules  # type: ignore[assignment]
