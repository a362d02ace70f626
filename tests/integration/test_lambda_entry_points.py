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


def test_every_function_is_entered_through_app_py(chalice_app) -> None:  # type: ignore[no-untyped-def]
    # Lambda imports only the module a handler string names. A handler reached through a
    # blueprint's own module would run without app.py: no middleware (logs, metrics) and no
    # Blueprint.current_app, which the stream handlers push notifications through.
    for config in handler_configs(chalice_app):
        assert config.handler_string == f"app.{config.name}", config.handler_string


def test_every_function_has_its_settings_and_policy_in_chalice_json(chalice_app) -> None:  # type: ignore[no-untyped-def]
    # chalice.json turns Chalice's generated policy off, so a function it does not list would
    # deploy with no policy file at all: add it there and to infrastructure/iam/.
    import json
    from pathlib import Path

    from infrastructure.iam import function_names

    websocket = {"connect", "message", "disconnect"}
    functions = {"api_handler"} | {
        f"websocket_{c.name}" if c.name in websocket else c.name
        for c in handler_configs(chalice_app)
    }
    chalice_json = json.loads((Path(__file__).resolve().parents[2] / "chalice.json").read_text())
    assert functions == set(chalice_json["lambda_functions"]) == set(function_names())
