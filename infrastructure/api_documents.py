"""``make openapi``: write the API's documents, generated from the code, into ``docs/``.

``docs/openapi.json`` (REST, OpenAPI 3.1) and ``docs/asyncapi.json`` (the WebSocket's
frames, AsyncAPI 3.0) are committed, so client developers can read and generate from them
without running anything; ``tests/integration/test_api_documents.py`` fails when either no
longer matches the code.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalice import Chalice

ROOT = Path(__file__).resolve().parents[1]
OPENAPI = ROOT / "docs" / "openapi.json"
ASYNCAPI = ROOT / "docs" / "asyncapi.json"


def documents(app: Chalice) -> dict[Path, dict[str, Any]]:
    """Each document's path and content, generated from ``app``."""
    from chalicelib.api.asyncapi import asyncapi_document
    from chalicelib.api.openapi import openapi_document

    return {OPENAPI: openapi_document(app), ASYNCAPI: asyncapi_document()}


def rendered(document: dict[str, Any]) -> str:
    """How a document is written: stable, readable, one trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _app_without_aws() -> Chalice:
    """The app, imported with placeholder names for the event sources ``app.py`` reads at
    import (nothing here calls AWS)."""
    from local.stack import FUNCTIONS_DIR, import_app

    sys.path.insert(0, str(FUNCTIONS_DIR))
    from chalicelib.core.config import EventSources

    for name in EventSources._fields:
        os.environ.setdefault(
            name.upper(),
            "arn:aws:dynamodb:us-east-1:123456789012:table/docs/stream/0"
            if name.endswith("_arn")
            else "docs",
        )
    return import_app()


def main(write: Callable[[Path, str], Any] = Path.write_text) -> int:
    for path, document in documents(_app_without_aws()).items():
        write(path, rendered(document))
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
