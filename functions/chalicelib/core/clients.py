"""AWS clients, made on first use and then reused for the life of the Lambda container.

Lazy creation keeps cold starts small and lets tests start moto before any client exists.
AWS_ENDPOINT_URL (set only by the local stack and tests) points every client at moto.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.core.config import get_settings

_RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2, read_timeout=5
)


@cache
def aws_client(service: str) -> Any:
    return boto3.session.Session().client(
        service, region_name=get_settings().aws_region, config=_RETRIES
    )


def reset_clients() -> None:
    """Drop cached clients (tests re-point the environment between runs)."""
    aws_client.cache_clear()
