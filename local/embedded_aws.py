"""The embedded AWS: moto's server on loopback, made safe for concurrent clients.

moto's backends hold no lock: two DynamoDB requests served on two threads interleave. DynamoDB
itself serialises conflicting writes, so the embedded AWS serialises requests to moto's
backends (bodies are read first, so a slow upload never stalls other clients). Tests run it in
a thread of their own process (they look into moto's backends); the local stack in a process
of its own, so moto's work and the handlers' do not take turns on one interpreter lock.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from local.moto_patches import (
    cache_moto_module_list,
    install_item_level_transaction_rollback,
    trim_shard_iterators,
)

_PROJECT_ROOT = Path(__file__).resolve().parents[1]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Credentials the embedded AWS accepts; moto checks none, boto3 just needs some.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


class _QuietRequestHandler(MotoRequestHandler):
    # HTTP/1.1 keeps botocore's pooled connections open: under HTTP/1.0 every request
    # paid for a new TCP connection and a new server thread.
    protocol_version = "HTTP/1.1"

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
    """moto's server on 127.0.0.1 (port 0 picks a free one), in a daemon thread of this process
    or, with `own_process`, in a child (``python -m local.embedded_aws``) that exits when this
    process stops or dies."""

    def __init__(self, port: int = 0, region: str = "us-east-1", own_process: bool = False) -> None:
        self.region = region
        self._requested_port = port
        self._own_process = own_process
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[str] | None = None
        self._endpoint_url: str | None = None

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("the embedded AWS is not started")
        return self._endpoint_url

    def start(self) -> EmbeddedAws:
        if self._own_process:
            self._start_process()
            return self
        self._server = _make_server(self._requested_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="embedded-aws", daemon=True
        )
        self._thread.start()
        # werkzeug's host and port (the bound one when 0 was asked for), typed str and int.
        self._endpoint_url = f"http://{self._server.host}:{self._server.port}"
        return self

    def _start_process(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - this module, fixed arguments
            [sys.executable, "-m", __name__, "--port", str(self._requested_port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=_PROJECT_ROOT,
            # Ctrl-C reaches only the parent, which still needs moto while it shuts down.
            start_new_session=True,
        )
        assert self._process.stdout is not None
        ready = self._process.stdout.readline().strip()
        if not ready.startswith("listening "):
            self._process.kill()
            raise RuntimeError(f"the embedded AWS did not start (exit {self._process.wait()})")
        self._process.stdout.close()
        self._endpoint_url = ready.removeprefix("listening ")

    def stop(self) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()  # the child's signal to stop
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._endpoint_url = None

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


def _make_server(port: int) -> BaseWSGIServer:
    install_item_level_transaction_rollback()
    cache_moto_module_list()
    app = SerializedBackends(DomainDispatcherApplication(create_backend_app))
    return make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietRequestHandler)


def _freeze_startup_objects() -> None:
    """Keep what startup made (moto's ~190 service modules and their botocore models) out of
    the collector's sight: full collections over them stalled requests for 0.4-0.7 s."""
    gc.collect()
    gc.freeze()


def _serve_for_parent(port: int) -> None:
    """The child process: serve until the parent closes our stdin (or dies, which closes it)."""
    server = _make_server(port)
    _freeze_startup_objects()

    def stop_when_parent_goes() -> None:
        sys.stdin.read()
        server.shutdown()

    threading.Thread(target=stop_when_parent_goes, name="parent-watch", daemon=True).start()
    print(f"listening http://{server.host}:{server.port}", flush=True)
    # Anything moto prints from here on goes where the parent's errors go, not to a pipe
    # nobody reads any more.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    _serve_for_parent(parser.parse_args().port)
