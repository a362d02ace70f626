"""The REST API on a local port: Chalice's local API Gateway running the real app.

``chalice local`` would let Cognito authorizers through unchecked; this app checks tokens in
its own middleware, so the local gateway runs exactly the code Lambda runs, checks included.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from chalice import Chalice
from chalice.config import Config
from chalice.local import create_local_server

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


class RestGateway:
    """Serves the Chalice app's routes over HTTP on ``host:port`` (0 picks a free port)."""

    def __init__(
        self, app: Chalice, host: str = "127.0.0.1", port: int = 8000, stage: str = "dev"
    ) -> None:
        config_file = FUNCTIONS_DIR / ".chalice" / "config.json"
        config = Config.create(
            chalice_stage=stage,
            app_name=app.app_name,
            project_dir=str(FUNCTIONS_DIR),
            config_from_disk=json.loads(config_file.read_text()),
        )
        self._server = create_local_server(app, config, host, port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> RestGateway:
        self._thread = threading.Thread(
            target=self._server.server.serve_forever, name="rest-gateway", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
