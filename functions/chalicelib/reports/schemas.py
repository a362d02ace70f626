"""The reports route's body in and out."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.core.schema import (
    ID_PATTERN,
    MAX_ID_LENGTH,
    WHITESPACE,
    NonBlankText,
    Output,
    StrictInput,
)
from chalicelib.reports.domain import MAX_REASON, Report, TargetType

# An id, or two joined by a slash (a comment's post and comment, a message's conversation
# and seq): each part an id's shape, so no part can be a key DynamoDB refuses.
_ID = ID_PATTERN.removeprefix("^").removesuffix("$")
TargetId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2 * MAX_ID_LENGTH + 1, pattern=f"^{_ID}(/{_ID})?$"),
]
Reason = Annotated[
    NonBlankText, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON)
]


class ReportInput(StrictInput):
    """``target_id`` names the target as the client knows it: a post or user by its id, a
    comment as ``<post_id>/<comment_id>``, a message as ``<conversation_id>/<seq>``."""

    # reports.service checks the shapes; these patterns say them to the document.
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"target_type": {"const": "comment"}}},
                    "then": {
                        "properties": {
                            "target_id": {"pattern": f"^[^/{WHITESPACE}]+/[^/{WHITESPACE}]+$"}
                        }
                    },
                },
                {
                    "if": {"properties": {"target_type": {"const": "message"}}},
                    "then": {
                        "properties": {"target_id": {"pattern": f"^[^/{WHITESPACE}]+/[0-9]+$"}}
                    },
                },
            ]
        }
    )

    # Lax for this field only: strict mode would want a TargetType instance, not its value.
    target_type: TargetType = Field(strict=False)
    target_id: TargetId
    reason: Reason


class ReportReceiptOut(Output):
    """Received for moderators to review; nothing about the target changes now."""

    report_id: str
    status: Literal["received"] = "received"


def render_receipt(report: Report) -> ReportReceiptOut:
    return ReportReceiptOut(report_id=report.report_id)
