"""The one place that reaches into moto's internals. Each item says why it must;
``tests/integration/local_stack/test_moto_patches.py`` fails when moto changes under it.
"""

from __future__ import annotations

import itertools

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
