"""Helpers the test rings share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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
