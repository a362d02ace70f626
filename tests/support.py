"""Helpers the test rings share."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEST_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    user_id: str
    username: str
    token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}


def unique_username(prefix: str = "user") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"


def load_event(name: str) -> dict[str, Any]:
    """A sample Lambda event from ``events/``, as AWS shapes it."""
    return json.loads((EVENTS_DIR / name).read_text())
