"""The one place that reads configuration: environment variables, validated once.

On AWS the deploy step writes these into each function's environment from the
infrastructure outputs; the local stack and the tests export the same names.

``get_settings()`` validates every setting (``Settings``, in ``chalicelib.core.settings``)
on first use, not at import: pydantic-settings costs a cold start about half of what
``import boto3`` does. ``app.py`` needs a few names while Lambda's init registers the event
handlers; ``event_source_names()`` reads just those, without pydantic.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from chalicelib.core.settings import Settings


class EventSources(NamedTuple):
    """What triggers the event handlers: ``Settings`` fields of the same names."""

    media_bucket: str
    users_stream_arn: str
    follows_stream_arn: str
    posts_stream_arn: str
    likes_stream_arn: str
    comments_stream_arn: str
    stories_stream_arn: str
    media_stream_arn: str
    fanout_queue: str


def event_source_names() -> EventSources:
    """The bucket, table streams and queue ``app.py`` subscribes handlers to.

    Read from the environment as ``Settings`` reads them (names in any case); ``Settings``
    checks everything else when a handler first reads a setting.
    """
    environment = {name.lower(): value for name, value in os.environ.items()}
    missing = [field for field in EventSources._fields if field not in environment]
    if missing:
        raise RuntimeError(
            "missing environment variables: " + ", ".join(name.upper() for name in missing)
        )
    return EventSources(*(environment[field] for field in EventSources._fields))


@cache
def get_settings() -> Settings:
    from chalicelib.core.settings import Settings

    return Settings()  # type: ignore[call-arg]  # values come from the environment


def reload_settings() -> Settings:
    """Forget the cached settings; the next `get_settings()` reads the environment again."""
    get_settings.cache_clear()
    return get_settings()


def __getattr__(name: str) -> Any:
    # ``from chalicelib.core.config import Settings`` still works, importing it then.
    if name == "Settings":
        from chalicelib.core.settings import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
