"""The embedded AWS: moto's server on loopback, made safe for concurrent clients.

moto's backends hold no lock: two DynamoDB requests served on two threads interleave, and a
failed TransactWriteItems restores a deep copy of the whole table, discarding writes other
threads made meanwhile. DynamoDB itself serialises conflicting writes, so the embedded AWS
serialises requests to moto's backends. Request bodies are read before the lock is taken, so
a slow upload never stalls other clients.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from infrastructure.local_stack.moto_patches import (
    install_item_level_transaction_rollback,
    trim_shard_iterators,
)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Credentials the embedded AWS accepts; moto checks none, boto3 just needs some.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


class _QuietRequestHandler(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SerializedBackends:
    """WSGI middleware that lets one request at a time reach moto's backends."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        with self._lock:
            # Materialise the response inside the lock: moto builds it lazily for some services.
            response = list(self._app(environ, start_response))
            if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".GetRecords"):
                trim_shard_iterators()
            return response


class EmbeddedAws:
    """moto's server on 127.0.0.1, in a daemon thread of this process.

    Parameters
    ----------
    port:
        TCP port; 0 picks a free one.
    region:
        The region every client of the local stack uses.
    """

    def __init__(self, port: int = 0, region: str = "us-east-1") -> None:
        self.region = region
        self._requested_port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded AWS is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> EmbeddedAws:
        install_item_level_transaction_rollback()
        app = SerializedBackends(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            "127.0.0.1",
            self._requested_port,
            app,
            threaded=True,
            request_handler=_QuietRequestHandler,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="embedded-aws", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def client_environment(self) -> dict[str, str]:
        """Environment variables that point boto3, PynamoDB and the app at this endpoint."""
        return {
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def export_environment(self) -> None:
        os.environ.update(self.client_environment())

    def __enter__(self) -> EmbeddedAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
