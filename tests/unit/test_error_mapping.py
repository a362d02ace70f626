from __future__ import annotations

import json

import pytest
from chalicelib.api.errors import STATUS_BY_ERROR, error_response
from chalicelib.core import errors


def every_domain_error() -> list[type[errors.DomainError]]:
    found, pending = [], [errors.DomainError]
    while pending:
        kind = pending.pop()
        pending += kind.__subclasses__()
        if kind is not errors.DomainError:
            found.append(kind)
    return found


@pytest.mark.parametrize("kind", every_domain_error(), ids=lambda k: k.__name__)
def test_every_domain_error_has_a_4xx_or_503_status(kind: type[errors.DomainError]) -> None:
    error = kind("m", 3, 5, 60) if kind is errors.RateLimited else kind("m")  # type: ignore[call-arg]
    response = error_response(error)
    assert kind in STATUS_BY_ERROR
    assert response.status_code == STATUS_BY_ERROR[kind]
    assert json.loads(json.dumps(response.body)) == {"Code": kind.code, "Message": "m"}


def test_rate_limits_say_when_to_retry_and_what_the_limit_is() -> None:
    refused = errors.RateLimited(
        "slow down", retry_after_seconds=7, limit=5, resets_at=1_800_000_060
    )
    response = error_response(refused)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-RateLimit-Limit"] == "5"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Reset"] == "1800000060"


def test_unauthenticated_answers_name_the_scheme() -> None:
    assert error_response(errors.NotAuthenticated("x")).headers["WWW-Authenticate"] == "Bearer"
