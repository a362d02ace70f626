from chalice import Blueprint, Response

from chalicelib.api.requests import body, caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

service = lazy_module("chalicelib.notifications.service")
schemas = lazy_module("chalicelib.notifications.schemas")

notifications_api = Blueprint(__name__)


@notifications_api.route("/notifications", methods=["GET"])
def list_notifications() -> dict:
    request = notifications_api.current_request
    me = caller(request)
    scope = f"notifications:{me.user_id}"
    page = service.notifications(me.user_id, page_request(request, scope))
    return list_body(page, scope, schemas.render_notification)


@notifications_api.route("/notifications/read", methods=["POST"])
def mark_read() -> Response:
    request = notifications_api.current_request
    service.mark_read(caller(request).user_id, body(request, schemas.MarkReadInput).until)
    return Response(body="", status_code=204)
