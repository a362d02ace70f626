from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.operations import operation
from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.core import schema
    from chalicelib.notifications import schemas, service
else:
    schema = lazy_module("chalicelib.core.schema")
    schemas = lazy_module("chalicelib.notifications.schemas")
    service = lazy_module("chalicelib.notifications.service")

notifications_api = Blueprint(__name__)


@notifications_api.route("/notifications", methods=["GET"])
def list_notifications() -> schema.ListOf[schemas.NotificationOut]:
    """Your notifications, newest first."""
    request = notifications_api.current_request
    paging = page_request(request)
    page = service.notifications(caller(request).user_id, paging)
    return list_body(page, paging, schemas.render_notification)


@notifications_api.route("/notifications/read", methods=["POST"])
@operation(errors=(404,))
def mark_read(details: schemas.MarkReadInput) -> None:
    """Mark read every notification up to and including ``until``."""
    service.mark_read(caller(notifications_api.current_request).user_id, details.until)
