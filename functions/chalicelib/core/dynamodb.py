"""What every DynamoDB data layer shares: late-bound table names and transactions.

Only data-layer modules (``*/repository.py``) import this or pynamodb.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBConnectionError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core.config import get_settings
from chalicelib.core.errors import DependencyUnavailable

TRANSACTION_ATTEMPTS = 8


class FromSettings:
    """A PynamoDB ``Meta`` attribute read from the settings on every access.

    Models are defined at import time, before the local stack or a test has said which
    tables to use; reading late lets the same model serve every stage.
    """

    def __init__(self, field: str) -> None:
        self._field = field

    def __get__(self, instance: object, owner: type) -> Any:
        return getattr(get_settings(), self._field)


class BaseMeta:
    # None lets botocore resolve both from the environment: AWS_REGION, which Lambda sets,
    # and AWS_ENDPOINT_URL, which only the local stack and tests set.
    region = None
    host = None
    max_retry_attempts = 3
    connect_timeout_seconds = 2
    read_timeout_seconds = 5


@cache
def _connection(region: str) -> Connection:
    return Connection(region=region)


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """The reason code of each transaction item, in the order PynamoDB sent them.

    PynamoDB sends condition checks first, then deletes, then puts, then updates.
    """
    return [reason.code if reason else None for reason in (exc.cancellation_reasons or [])]


def transact(build: Callable[[TransactWrite], None], attempts: int = TRANSACTION_ATTEMPTS) -> None:
    """Run a write transaction, retrying when DynamoDB cancels it for a conflict.

    Concurrent transactions on one item (many people following one account) cancel each
    other with ``TransactionConflict``; botocore does not retry those, so we do, with
    jittered exponential backoff. Condition failures are raised for the caller to judge.

    Parameters
    ----------
    build:
        Adds the operations to the transaction; called again on every attempt.
    attempts:
        Tries before giving up with ``DependencyUnavailable``.
    """
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=_connection(get_settings().aws_region)) as transaction:
                build(transaction)
            return
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            conflicted = "TransactionConflict" in codes or exc.cause_response_code in (
                "TransactionInProgressException",
                "ThrottlingException",
                "ProvisionedThroughputExceededException",
            )
            if not conflicted or "ConditionalCheckFailed" in codes:
                raise
            time.sleep(random.uniform(0, min(0.25, 0.01 * 2**attempt)))  # noqa: S311 - jitter, not crypto
        except PynamoDBConnectionError as exc:
            raise DependencyUnavailable("the database is unavailable; retry shortly") from exc
    raise DependencyUnavailable("too many concurrent changes to the same items; retry shortly")


def failed_items(exc: TransactWriteError, labels: Sequence[str]) -> set[str]:
    """Names of the items whose condition failed, given labels in PynamoDB's send order."""
    return {
        label
        for label, code in zip(labels, cancellation_codes(exc), strict=False)
        if code == "ConditionalCheckFailed"
    }
