from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.core import schema
else:
    schema = lazy_module("chalicelib.core.schema")

health_api = Blueprint(__name__)


@health_api.route("/health", methods=["GET"])
def health() -> schema.HealthOut:
    """Whether the API answers (no token needed)."""
    return schema.HealthOut()
