from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.operations import operation
from chalicelib.api.requests import caller
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.reports import schemas, service
else:
    schemas = lazy_module("chalicelib.reports.schemas")
    service = lazy_module("chalicelib.reports.service")

reports_api = Blueprint(__name__)


@reports_api.route("/reports", methods=["POST"])
@operation(status=202, errors=(403, 404))
def file_report(details: schemas.ReportInput) -> schemas.ReportReceiptOut:
    """Report a post, comment, user or message to the moderators."""
    report = service.file_report(caller(reports_api.current_request).user_id, details)
    return schemas.render_receipt(report)
