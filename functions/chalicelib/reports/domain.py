"""Reports: a user flags a post, comment, user or message for moderators to review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_REASON = 1000


class TargetType(StrEnum):
    POST = "post"
    COMMENT = "comment"
    USER = "user"
    MESSAGE = "message"


@dataclass(frozen=True)
class Report:
    report_id: str
    target_type: TargetType
    # post: its id; user: theirs; comment: "<post_id>/<comment_id>";
    # message: "<conversation_id>/<seq>" (ids the client already holds).
    target_id: str
    reporter_id: str
    reason: str
    created_at: datetime
