"""Lists: a page of items and an opaque cursor that the server can trust when it returns.

A cursor is the data layer's position (DynamoDB's LastEvaluatedKey) signed with HMAC-SHA256
over the list it belongs to. Positions are keys, not offsets, so paging stays stable while
new items arrive at the head: no duplicates, no gaps. A cursor that was tampered with, or
that belongs to another list, is refused as bad input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from chalicelib.core.errors import InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_CURSOR_LENGTH = 2048


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    position: dict[str, Any] | None = None
    # The list and caller the cursors of this request are signed for (``api.requests``).
    scope: str = ""


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    position: dict[str, Any] | None  # where the next page starts; None at the end


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Encodes and verifies cursors.

    Parameters
    ----------
    secret:
        HMAC key; the same for every function of a stage.
    """

    def __init__(self, secret: str) -> None:
        self._key = secret.encode("utf-8")

    def _signature(self, scope: str, payload: str) -> str:
        mac = hmac.new(self._key, f"{scope}\n{payload}".encode(), hashlib.sha256)
        return _b64(mac.digest()[:16])

    def encode(self, position: dict[str, Any] | None, scope: str) -> str | None:
        if position is None:
            return None
        payload = _b64(json.dumps(position, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{self._signature(scope, payload)}"

    def decode(self, cursor: str | None, scope: str) -> dict[str, Any] | None:
        if cursor is None or cursor == "":
            return None
        invalid = InvalidInput("cursor is not valid for this list: start again without it")
        if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
            raise invalid
        payload, signature = cursor.split(".")
        if not hmac.compare_digest(signature, self._signature(scope, payload)):
            raise invalid
        try:
            position = json.loads(_unb64(payload))
        except (binascii.Error, ValueError) as exc:
            raise invalid from exc
        if not isinstance(position, dict):
            raise invalid
        return position


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)
