"""The OpenAPI 3.1 document of the REST API, generated from the app's registered routes.

Work in progress: ``openapi_document`` is the interface the local stack serves at
``GET /openapi.json`` and ``make openapi`` writes to ``docs/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from chalice import Chalice


def openapi_document(app: Chalice) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing every route of ``app``."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shutter", "version": "0.1.0"},
        "paths": {path: {} for path in sorted(app.routes)},
    }
