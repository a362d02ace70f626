"""The one place for logs, traces and metrics (Powertools), shared by every function."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, ConvertToMiddleware

SERVICE = "shutter"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="Shutter", service=SERVICE)


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
    app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))
    app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
