"""The REST API on a local port: API Gateway's REST API as ``make deploy`` leaves it, in front of
the real app, token checks included (``chalice local`` would let authorizers through unchecked).

As on AWS: every method on a route's path reaches the app (the deploy gives each route an
``ANY`` method), which answers 405 with ``Allow`` and CORS preflights; a path no route has is
API Gateway's own 404 (``infrastructure/gateway_responses.py``, as deployed), which never
echoes the ``Authorization`` header; the function gets a Lambda proxy event with a request id,
repeated in ``x-amzn-RequestId`` and logged as ``correlation_id``. Only here, as nothing
deploys them: ``GET /openapi.json`` (the app's OpenAPI document) and ``GET /docs`` (Swagger UI).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalice import Chalice
from chalice.local import LambdaEventConverter, RouteMatcher

from infrastructure.gateway_responses import (
    FUNCTION_FAILED,
    NO_ROUTE,
    GatewayResponse,
    cors_headers,
)
from local.console import console
from local.lambda_runtime import invoke

# Swagger UI from jsDelivr, pinned, with the files' hashes (from the npm package) so a
# browser runs exactly that release.
SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0"
SWAGGER_UI_JS_SRI = "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9"
SWAGGER_UI_CSS_SRI = "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I"
DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Shutter API</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css"
      integrity="{SWAGGER_UI_CSS_SRI}" crossorigin="anonymous">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"
        integrity="{SWAGGER_UI_JS_SRI}" crossorigin="anonymous"></script>
<script>
SwaggerUIBundle({{url: "/openapi.json", dom_id: "#swagger-ui", persistAuthorization: true}});
</script>
</body>
</html>
"""

# A response: status, headers (a list value is sent as that many header lines), body.
Answer = tuple[int, Mapping[str, str | list[str]], bytes]


def _per_thread(name: str) -> property:
    served = threading.local()
    return property(
        lambda self: getattr(served, name, None), lambda self, value: setattr(served, name, value)
    )


class _PerThreadRequest:
    """Chalice keeps the request it serves on the app object; this gateway serves each
    connection on its own thread, so each thread gets its own (as ``chalice local`` does)."""

    current_request = _per_thread("request")
    lambda_context = _per_thread("context")


def _serve_requests_per_thread(app: Chalice) -> type[Chalice]:
    """Give ``app`` a request per thread; returns the class to restore afterwards."""
    original = type(app)
    if not isinstance(app, _PerThreadRequest):
        app.__class__ = type(original.__name__, (_PerThreadRequest, original), {})
    return original


class RestGateway:
    """Serves the Chalice app's routes over HTTP on ``host:port`` (0 picks a free port). `stage`
    is what events name, and names the REST function ``<app>-<stage>`` as Chalice deploys it;
    `cors_allowed_origins` (the stage's ``CORS_ALLOWED_ORIGINS``) sets the CORS headers of the
    gateway's own answers."""

    def __init__(
        self,
        app: Chalice,
        host: str = "127.0.0.1",
        port: int = 8000,
        stage: str = "local",
        cors_allowed_origins: str = "",
    ) -> None:
        self._app_class = _serve_requests_per_thread(app)
        self.app = app
        self.stage = stage
        self.function_name = f"{app.app_name}-{stage}"
        self._events = LambdaEventConverter(RouteMatcher(list(app.routes)), app.api.binary_types)
        self._gateway_headers = cors_headers(cors_allowed_origins)
        self._server = ThreadingHTTPServer((host, port), _handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> RestGateway:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="rest-gateway", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()  # waits for serve_forever, so only once it runs
            self._thread.join(timeout=5)
        self._server.server_close()
        self.app.__class__ = self._app_class

    def __enter__(self) -> RestGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> Answer:
        """What API Gateway, then the function, answer to one request."""
        path = target.split("?", 1)[0]
        if method in ("GET", "HEAD") and path in ("/openapi.json", "/docs"):
            started = time.perf_counter()
            answer = self._local_docs(path)
            console.report(f"{method} {path} {answer[0]} {_ms(started):.0f} ms (local docs)", [])
            return answer
        request_id = str(uuid.uuid4())
        try:
            event = self._events.create_lambda_event(method, target, dict(headers), body)
        except ValueError:  # no route's path matches
            console.report(f"{method} {path} 404 (gateway: no route)", [])
            return self._gateway_answer(NO_ROUTE, request_id)
        event["requestContext"].update(
            requestId=request_id,
            stage=self.stage,
            requestTimeEpoch=int(time.time() * 1000),
            requestTime=datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        )
        event.update(resource=event["requestContext"]["resourcePath"], path=path, httpMethod=method)

        def describe(result: Any, error: BaseException | None, ms: float) -> str:
            status = result.get("statusCode", "?") if isinstance(result, dict) else "502"
            user = _caller_name(headers) if status != 401 else None
            return f"{method} {path} {status} {ms:.0f} ms" + (f" user={user}" if user else "")

        try:
            response = invoke(self.app, event, self.function_name, describe=describe)
        except Exception:  # the function failed: what API Gateway answers then
            return self._gateway_answer(FUNCTION_FAILED, request_id, 502, "Internal server error")
        return _from_proxy_response(response, request_id)

    def _gateway_answer(
        self,
        response: GatewayResponse,
        request_id: str,
        status: int | None = None,
        gateway_message: str = "",
    ) -> Answer:
        headers = {
            "Content-Type": "application/json",
            "x-amzn-RequestId": request_id,
            **response.headers,
            **self._gateway_headers,
        }
        return response.status or status or 400, headers, response.body(gateway_message).encode()

    def _local_docs(self, path: str) -> Answer:
        if path == "/docs":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, DOCS_PAGE.encode()
        from chalicelib.api.openapi import openapi_document  # the app's package, on its path

        document = json.dumps(openapi_document(self.app)).encode()  # afresh for each request
        return 200, {"Content-Type": "application/json"}, document


def _from_proxy_response(response: dict[str, Any], request_id: str) -> Answer:
    headers: dict[str, str | list[str]] = {"x-amzn-RequestId": request_id}
    headers.update(response.get("headers") or {})
    headers.update(response.get("multiValueHeaders") or {})
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    headers.setdefault("Content-Type", "application/json")
    return int(response["statusCode"]), headers, raw


def _caller_name(headers: Mapping[str, str]) -> str | None:
    """Who the bearer token names, for the console only: the app verifies it, not this."""
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return None
    name = (claims.get("username") or claims.get("sub")) if isinstance(claims, dict) else None
    return str(name) if name else None


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _handler_class(gateway: RestGateway) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as browsers and requests expect

        def handle_one_method(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            status, headers, payload = gateway.answer(
                self.command, self.path, dict(self.headers.items()), body
            )
            self.send_response(status)
            for name, value in headers.items():
                for one in value if isinstance(value, list) else [value]:
                    self.send_header(name, one)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        # Every method goes to the app, as the ANY method make deploy adds sends it: one
        # its route lacks is the app's 405 with Allow (http.server's own answer is a 501).
        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):
                return self.handle_one_method
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # each request's line is the console's summary, printed by answer()

    return RequestHandler
