"""Every Lambda Chalice will deploy must find its handler where the handler string points."""

from __future__ import annotations

import importlib

from chalice.app import EventSourceHandler


def handler_configs(app):  # type: ignore[no-untyped-def]
    yield from app.websocket_handlers.values()
    yield from app.event_sources


def test_every_handler_string_resolves_to_the_wrapped_lambda_handler(chalice_app) -> None:  # type: ignore[no-untyped-def]
    configs = list(handler_configs(chalice_app))
    assert configs, "the app registers no non-REST handlers"
    for config in configs:
        module_name, _, attribute = config.handler_string.rpartition(".")
        target = getattr(importlib.import_module(module_name), attribute)
        assert target is chalice_app.handler_map[config.name], config.handler_string
        # A plain function here would be called by Lambda as (event, context) and fail, as
        # WebSocket handlers registered on a Blueprint are.
        assert isinstance(target, EventSourceHandler), config.handler_string
