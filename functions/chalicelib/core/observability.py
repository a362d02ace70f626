"""The one place for logs, traces and metrics (Powertools), shared by every function.

``logger`` and ``metrics`` are Powertools' ``Logger`` and ``Metrics``, made on first use (the
first invocation) rather than at import: importing Powertools is a tenth of what
``import boto3`` costs every cold start (``chalicelib/core/lazy.py``). Use them as usual:
``logger.info(...)``, ``metrics.add_metric(...)``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Chalice, ConvertToMiddleware

from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "shutter"

correlation_paths = lazy_module("aws_lambda_powertools.logging.correlation_paths")


class _MadeOnFirstUse:
    """Stands for the object ``make()`` returns, made (once, by one thread) when first used."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._made: Any = None
        self._lock = threading.Lock()

    def _target(self) -> Any:
        if self._made is None:
            with self._lock:
                if self._made is None:
                    self._made = self._make()
        return self._made

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


def _make_logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger(service=SERVICE)


def _make_metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="Shutter", service=SERVICE)


logger: Logger = _MadeOnFirstUse(_make_logger)  # type: ignore[assignment]
metrics: Metrics = _MadeOnFirstUse(_make_metrics)  # type: ignore[assignment]

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
    app.register_middleware(ConvertToMiddleware(_with_lambda_context))
    if tracer is not None:
        app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))
    app.register_middleware(ConvertToMiddleware(_flushing_metrics))


# Chalice applies these per invocation; Powertools is imported by the first one.
def _with_lambda_context(handler: Callable[..., Any]) -> Callable[..., Any]:
    return logger.inject_lambda_context(
        handler, correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
    )


def _flushing_metrics(handler: Callable[..., Any]) -> Callable[..., Any]:
    return metrics.log_metrics(handler)
