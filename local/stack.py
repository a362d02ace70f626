"""The whole backend on one machine: embedded AWS, provisioned resources, the app behind a
REST gateway and a WebSocket gateway, and the event plumbing Lambda would provide.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import pkgutil
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from chalice import Chalice

from infrastructure.provision import provision
from local.console import console
from local.embedded_aws import EmbeddedAws
from local.event_plumbing import STAGE, EventPlumbing
from local.rest_gateway import RestGateway
from local.websocket_gateway import WebSocketGateway

log = logging.getLogger("local_stack")
FUNCTIONS_DIR = Path(__file__).resolve().parents[1] / "functions"
LOCAL_WEBSOCKET_API_ID = "localws"
# A web client on a dev server (any port of localhost) may call the local API from a browser.
LOCAL_CORS_ALLOWED_ORIGINS = "http://localhost:*,http://127.0.0.1:*"


# Passed through to the app: the contract lets local runs shorten stories and lower the
# celebrity threshold.
_PASSED_THROUGH = (
    "STORY_TTL_SECONDS",
    "FANOUT_THRESHOLD",
    "STORY_MEDIA_RETENTION_SECONDS",
    "CORS_ALLOWED_ORIGINS",
)


@dataclass
class LocalStackConfig:
    api_port: int = 8000
    ws_port: int = 8001
    aws_port: int = 4566
    host: str = "127.0.0.1"
    app_environment: dict[str, str] = field(default_factory=dict)
    # Scheduled seconds per real second (LOCAL_SCHEDULE_SCALE): 60 runs a once-a-minute
    # schedule every second, so end-to-end tests can watch the stories sweeper work.
    schedule_time_scale: float = 1.0

    @classmethod
    def from_environment(cls) -> LocalStackConfig:
        return cls(
            api_port=int(os.environ.get("API_PORT", "8000")),
            ws_port=int(os.environ.get("WS_PORT", "8001")),
            aws_port=int(os.environ.get("AWS_PORT", "4566")),
            app_environment={k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ},
            schedule_time_scale=float(os.environ.get("LOCAL_SCHEDULE_SCALE", "1")),
        )


def import_app() -> Chalice:
    """Import ``functions/app.py`` as Lambda does, with ``functions/`` on the path."""
    if str(FUNCTIONS_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTIONS_DIR))
    module: ModuleType = importlib.import_module("app")
    return module.app


def import_app_modules() -> None:
    """Import every ``chalicelib`` module, which the app itself imports on first use
    (``chalicelib/core/lazy.py``): for a long-running process, or a test that enumerates the
    app's classes, that wants them all loaded now."""
    import chalicelib

    for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        importlib.import_module(module.name)


class LocalStack:
    """Starts and stops every part, in dependency order."""

    def __init__(self, config: LocalStackConfig) -> None:
        self.config = config
        self.aws = EmbeddedAws(port=config.aws_port, own_process=True)
        self.rest: RestGateway | None = None
        self.websocket: WebSocketGateway | None = None
        self.plumbing: EventPlumbing | None = None

    def start(self) -> LocalStack:
        # Before the app's logger exists: it keeps the stdout it was made with.
        console.install()
        self.aws.start()
        self.aws.export_environment()
        os.environ.update(provision(STAGE))
        os.environ.update(
            {
                "SIGNUP_CONFIRMATION": "false",
                "CURSOR_SECRET": secrets.token_urlsafe(32),
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_NAMESPACE": "Shutter",
                # Stream handlers push notifications through this WebSocket API (no event
                # of theirs names it), so it must match the gateway below.
                "WEBSOCKET_API_ID": LOCAL_WEBSOCKET_API_ID,
                "WEBSOCKET_STAGE": STAGE,
                "CORS_ALLOWED_ORIGINS": LOCAL_CORS_ALLOWED_ORIGINS,
                **self.config.app_environment,
            }
        )
        app = import_app()
        host = self.config.host
        self.websocket = WebSocketGateway(
            app, host, self.config.ws_port, STAGE, api_id=LOCAL_WEBSOCKET_API_ID
        ).start()
        self.websocket.route_management_api(app.websocket_api.session)
        scale = self.config.schedule_time_scale
        self.plumbing = EventPlumbing(app, schedule_time_scale=scale).start()
        origins = os.environ["CORS_ALLOWED_ORIGINS"]
        self.rest = RestGateway(app, host, self.config.api_port, STAGE, origins).start()
        # The app, botocore's models and every library are loaded for good: keep them out
        # of full garbage collections, which otherwise stall every handler for 0.1-0.5 s.
        # Lambda imports modules on first use to start fast; a local stack runs for hours,
        # so it loads them all now, before freezing.
        import_app_modules()
        gc.collect()
        gc.freeze()
        return self

    def stop(self) -> None:
        for part in (self.rest, self.plumbing, self.websocket):
            if part is not None:
                try:
                    part.stop()
                except Exception:  # keep stopping the others
                    log.exception("stopping a part of the local stack failed")
        self.aws.stop()
        console.uninstall()
