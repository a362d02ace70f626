"""An open WebSocket connection, as the backend knows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OpenedConnection:
    """Who opened a connection, when it ends (API Gateway's 2 h limit, or the token's expiry
    if sooner: nothing is pushed to it after), and when the token it was opened with
    expires (no frame is taken from it after)."""

    user_id: str
    expires_at: datetime
    token_expires_at: datetime
