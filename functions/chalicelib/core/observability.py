"""The one place for logs, traces and metrics (Powertools), shared by every function."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, ConvertToMiddleware

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "shutter"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Shutter", service=SERVICE)

# Traces are made only where something receives them: a stage deployed with X-Ray on
# ("xray": true in chalice.json) gets POWERTOOLS_TRACE_DISABLED=false from the deploy step.
# Everywhere else the X-Ray SDK is not even imported; its import alone is about 120 ms of
# every cold start. Powertools' own switch, read as Powertools reads it, but off by default.
TRACING = os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() in ("false", "0")

tracer: Tracer | None = None
if TRACING:
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service=SERVICE)


def annotate_trace(key: str, value: str) -> None:
    """Index the current trace by ``key`` (a no-op when tracing is off)."""
    if tracer is not None:
        tracer.put_annotation(key=key, value=value)


def register_observability(app: Chalice) -> None:
    """Apply Powertools' Lambda decorators to every handler of the app, REST and events.

    ``ConvertToMiddleware`` is Chalice's adapter for ``(event, context)`` decorators. The
    correlation id is API Gateway's request id where the event has one (REST, WebSocket).
    """
    app.register_middleware(
        ConvertToMiddleware(
            logger.inject_lambda_context(
                correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
            )
        )
    )
    if tracer is not None:
        app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))
    app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
