"""The one place for logs, traces and metrics (Powertools), shared by every function.

``logger`` and ``metrics`` are Powertools' ``Logger`` and ``Metrics``, made on first use (the
first invocation) rather than at import: importing Powertools is a tenth of what
``import boto3`` costs every cold start (``chalicelib/core/lazy.py``). Use them as usual:
``logger.info(...)``, ``metrics.add_metric(...)``.

Each line is written once, as Powertools' JSON, by the one handler Powertools puts on the
``shutter`` logger (``app.py`` keeps Chalice from adding its own to that same logger). Keys
appended with ``logger.append_keys`` belong to the invocation that appended them: they are
kept per thread (Powertools' thread-safe keys) and cleared when an invocation starts and
ends, so the local stack, which runs many handlers at once in one process, never writes one
handler's ``function_name`` or ``user_id`` into another's lines. On Lambda, one invocation
at a time per process, this is what clearing the state per invocation already did.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from chalice import Chalice, ConvertToMiddleware

from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.logging import correlation_paths
else:
    correlation_paths = lazy_module("aws_lambda_powertools.logging.correlation_paths")

SERVICE = "shutter"


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

    class InvocationLogger(Logger):
        """Powertools' Logger whose appended keys are the current invocation's alone."""

        def append_keys(self, **additional_keys: object) -> None:
            self.thread_safe_append_keys(**additional_keys)

        def remove_keys(self, keys: Iterable[str]) -> None:
            self.thread_safe_remove_keys(keys)

    made = InvocationLogger(service=SERVICE)
    # Powertools' handler is the only writer of these lines. Powertools keeps the root
    # logger's handlers from repeating them with a filter it adds to the handlers there when
    # the logger is made; one added later (a test runner's, say) would write them again.
    logging.getLogger(SERVICE).propagate = False
    return made


def _make_metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    # Powertools warns, once per process, on an invocation that recorded no metric: on
    # Lambda that is a plain-text line in the function's log among the JSON ones.
    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
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
    # Powertools' clear_state=True would reset keys shared by every thread; the invocation's
    # context and correlation id go to this thread's keys instead (InvocationLogger).
    injected = logger.inject_lambda_context(
        handler, correlation_id_path=correlation_paths.API_GATEWAY_REST
    )

    @functools.wraps(handler)
    def invocation(event: Any, context: Any) -> Any:
        logger.thread_safe_clear_keys()
        try:
            return injected(event, context)
        finally:
            logger.thread_safe_clear_keys()

    return invocation


def _flushing_metrics(handler: Callable[..., Any]) -> Callable[..., Any]:
    return metrics.log_metrics(handler)
