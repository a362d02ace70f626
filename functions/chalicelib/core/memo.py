"""A bounded, least-recently-used memory a warm Lambda keeps between invocations.

Only for facts that never go stale in a way that matters (a connection's user) or that are
checked where they are used (a conversation's last seq, which a transaction's condition
verifies): a cold start or another container simply reads instead.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class BoundedMemo[K, V]:
    """Remembers up to ``capacity`` entries, forgetting the least recently used first.

    Thread-safe: the local stack runs handlers on several threads of one process.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def remember(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)
