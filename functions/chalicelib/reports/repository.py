"""The reports table: one item per (reporter, target), and the moderation queue.

Open reports carry ``queue`` and ``queued_key``, which put them in the sparse
``open_reports`` index, oldest first; a moderator who closes a report removes both, and it
leaves the queue while the record stays.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import GetError, PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.clock import iso
from chalicelib.core.dynamodb import BaseMeta, FromSettings
from chalicelib.core.errors import DependencyUnavailable
from chalicelib.reports.domain import Report, TargetType

OPEN = "open"


class OpenReports(GlobalSecondaryIndex["ReportItem"]):
    class Meta:
        index_name = "open_reports"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    queued_key = UnicodeAttribute(range_key=True)


class ReportItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("reports_table")

    # "<target_type>#<target_id>#<reporter_id>": a second report of the same thing by the
    # same person is the same report.
    report_key = UnicodeAttribute(hash_key=True)
    report_id = UnicodeAttribute()
    target_type = UnicodeAttribute()
    target_id = UnicodeAttribute()
    reporter_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    queue = UnicodeAttribute(null=True)
    queued_key = UnicodeAttribute(null=True)  # "<created_at>#<report_id>"

    open_reports = OpenReports()


def _key(target_type: TargetType, target_id: str, reporter_id: str) -> str:
    return f"{target_type}#{target_id}#{reporter_id}"


def _to_report(item: ReportItem) -> Report:
    return Report(
        report_id=item.report_id,
        target_type=TargetType(item.target_type),
        target_id=item.target_id,
        reporter_id=item.reporter_id,
        reason=item.reason,
        created_at=item.created_at,
    )


def file_report(report: Report) -> Report:
    """Store the report in the open queue; the reporter's earlier report of the same target,
    if any, is returned instead (first one wins)."""
    key = _key(report.target_type, report.target_id, report.reporter_id)
    item = ReportItem(
        key,
        report_id=report.report_id,
        target_type=str(report.target_type),
        target_id=report.target_id,
        reporter_id=report.reporter_id,
        reason=report.reason,
        created_at=report.created_at,
        queue=OPEN,
        queued_key=f"{iso(report.created_at)}#{report.report_id}",
    )
    try:
        item.save(condition=ReportItem.report_key.does_not_exist())
        return report
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise DependencyUnavailable("could not file the report; retry shortly") from exc
    try:
        return _to_report(ReportItem.get(key, consistent_read=True))
    except (ReportItem.DoesNotExist, GetError) as exc:
        raise DependencyUnavailable("could not file the report; retry shortly") from exc


def open_reports(limit: int = 50) -> list[Report]:
    """The moderation queue, oldest first (for moderators' tools and tests)."""
    return [_to_report(item) for item in ReportItem.open_reports.query(OPEN, limit=limit)]
