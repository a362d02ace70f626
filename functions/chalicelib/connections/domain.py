"""An open WebSocket connection, as the backend knows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OpenedConnection:
    """Who opened a connection, and when API Gateway's 2 h limit ends it."""

    user_id: str
    expires_at: datetime
