"""Time-ordered ids: ULIDs (https://github.com/ulid/spec), 26 characters of Crockford base32.

The first 10 characters are the creation time in milliseconds, the last 16 are random, so
ids sort as they were made and a DynamoDB range key of them lists items oldest first. They
need no escaping in a URL path. Within one process, ids made in the same millisecond
increase by one in their random part (the spec's monotonic mode), so a quick run of
comments still lists in the order it was written; across processes, same-millisecond ids
are ordered at random, which is as good as any order for writes that close together.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
LENGTH = 26

_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, random part) of the last id made here


def new_ulid(at: datetime) -> str:
    """A ULID for the moment ``at``; later than the ids this process made before it in the
    same millisecond."""
    global _last
    milliseconds = int(at.timestamp() * 1000)
    with _lock:
        last_ms, last_random = _last
        if milliseconds == last_ms and last_random + 1 < 1 << _RANDOM_BITS:
            random_part = last_random + 1
        else:
            random_part = secrets.randbits(_RANDOM_BITS)
        _last = (milliseconds, random_part)
    return _encode(milliseconds, 10) + _encode(random_part, 16)


def is_ulid(text: str) -> bool:
    return len(text) == LENGTH and all(char in _ALPHABET for char in text)


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))
