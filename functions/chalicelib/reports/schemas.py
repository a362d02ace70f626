"""The reports route's body in and out."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.core.schema import NonBlankText, Output, StrictInput
from chalicelib.reports.domain import MAX_REASON, Report, TargetType

TargetId = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\s]+$")]
Reason = Annotated[
    NonBlankText, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON)
]


class ReportInput(StrictInput):
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
