from chalice import Blueprint, Response

from chalicelib.api.requests import body, caller
from chalicelib.core.lazy import lazy_module

service = lazy_module("chalicelib.reports.service")
schemas = lazy_module("chalicelib.reports.schemas")

reports_api = Blueprint(__name__)


@reports_api.route("/reports", methods=["POST"])
def file_report() -> Response:
    request = reports_api.current_request
    report = service.file_report(caller(request).user_id, body(request, schemas.ReportInput))
    # 202: received for moderators to review; nothing about the target changes now.
    return Response(schemas.render_receipt(report), status_code=202)
