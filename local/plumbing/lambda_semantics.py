"""What the Lambda service does around a handler: invoke it, read its batch response, retry.

Shared by every event source of the plumbing, so each behaves the same way on the same result.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from local.lambda_runtime import LambdaHandler, invoke
from local.plumbing.on_failure import (
    DeadLetter,
    OnFailureDestination,
    error_payload,
    request_context,
    response_context,
    utc_timestamp,
)

log = logging.getLogger("local_stack")

Clock = Callable[[], float]


class InvocationTracker:
    """Counts invocations in flight and work done, so the plumbing can tell when all is quiet."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.in_flight = 0
        self.work_done = 0

    def started(self) -> None:
        with self.condition:
            self.in_flight += 1
            self.work_done += 1

    def finished(self) -> None:
        with self.condition:
            self.in_flight -= 1
            self.work_done += 1
            self.condition.notify_all()


@dataclass(frozen=True)
class LambdaFunction:
    """One handler of the app, deployed as a function and invoked as the Lambda runtime does.

    Attributes
    ----------
    handler_name:
        The name Chalice registered the handler under (`app.handler_map` key).
    function_name:
        The deployed function name, ``<app>-<stage>-<handler_name>``.
    function_arn:
        The function's ARN, as Lambda writes it into on-failure records.
    """

    handler_name: str
    function_name: str
    function_arn: str
    handler: LambdaHandler
    tracker: InvocationTracker
    timeout_seconds: float = 60.0

    def __call__(self, event: dict[str, Any]) -> Any:
        self.tracker.started()
        try:
            return invoke(
                self.handler,
                event,
                self.function_name,
                self.timeout_seconds,
                describe=functools.partial(describe_delivery, self.handler_name, event),
            )
        finally:
            self.tracker.finished()


def describe_delivery(
    handler_name: str, event: dict[str, Any], result: Any, error: BaseException | None, ms: float
) -> str:
    """``posts_stream 3 records 0 failures 12 ms``: one event delivery, as the console shows it."""
    records = event.get("Records")
    delivered = _count(len(records), "record") if isinstance(records, list) else "1 event"
    if error is not None:
        outcome = f"failed ({type(error).__name__}: {error})"
    else:
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        outcome = _count(len(failures) if isinstance(failures, list) else 0, "failure")
    return f"{handler_name} {delivered} {outcome} {ms:.0f} ms"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how soon a failed batch or event is tried again.

    Attributes
    ----------
    max_retry_attempts:
        Retries after the first attempt; once they are spent the work goes to the
        on-failure destination.
    backoff_seconds:
        Delay before the first retry; it doubles with each retry, up to `max_backoff_seconds`.
        AWS waits seconds to minutes; locally a short delay keeps tests fast.
    """

    max_retry_attempts: int = 2
    backoff_seconds: float = 0.05
    max_backoff_seconds: float = 2.0

    def delay_before_retry(self, failed_attempts: int) -> float:
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (failed_attempts - 1))

    def exhausted(self, failed_attempts: int) -> bool:
        return failed_attempts > self.max_retry_attempts


@dataclass(frozen=True)
class BatchOutcome:
    """How Lambda reads a batch handler's result when ReportBatchItemFailures is on.

    Attributes
    ----------
    failed_identifiers:
        Item identifiers the handler reported as failed; empty when the batch succeeded or
        failed as a whole.
    whole_batch_failed:
        The handler raised, or reported failures Lambda can't use.
    error:
        The exception the handler raised, if it did.
    """

    failed_identifiers: frozenset[str] = frozenset()
    whole_batch_failed: bool = False
    error: BaseException | None = None

    @property
    def succeeded(self) -> bool:
        return not self.whole_batch_failed and not self.failed_identifiers

    def describe(self) -> str:
        if self.error is not None:
            return f"{type(self.error).__name__}: {self.error}"
        if self.whole_batch_failed:
            return "handler returned unusable batchItemFailures"
        return f"handler reported {len(self.failed_identifiers)} failed item(s)"


def invoke_batch(
    function: LambdaFunction,
    event: dict[str, Any],
    identifiers: Sequence[str],
    *,
    report_batch_item_failures: bool,
) -> BatchOutcome:
    """Invoke `function` with a batch and read its result as Lambda does."""
    try:
        response = function(event)
    except Exception as exc:
        log.warning(
            "handler raised, batch failed",
            exc_info=True,
            extra={"function_name": function.function_name, "batch_size": len(identifiers)},
        )
        return BatchOutcome(whole_batch_failed=True, error=exc)
    if not report_batch_item_failures:
        return BatchOutcome()
    return read_batch_item_failures(response, identifiers)


def read_batch_item_failures(response: Any, identifiers: Sequence[str]) -> BatchOutcome:
    """Lambda's reading of a ``{"batchItemFailures": [...]}`` response.

    None, a response without the key, and an empty or null list mean success. A list entry
    without an ``itemIdentifier``, with an empty or non-string one, or naming an item that is
    not in the batch makes the whole batch a failure, as it does on AWS.
    """
    if not isinstance(response, dict):
        return BatchOutcome()
    failures = response.get("batchItemFailures")
    if failures is None:
        return BatchOutcome()
    if not isinstance(failures, list):
        return BatchOutcome(whole_batch_failed=True)
    known = set(identifiers)
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in known:
            log.warning(
                "unusable batch item failure, treating the whole batch as failed",
                extra={"batch_item_failure": repr(failure)},
            )
            return BatchOutcome(whole_batch_failed=True)
        failed.add(identifier)
    return BatchOutcome(failed_identifiers=frozenset(failed))


@dataclass
class _QueuedEvent:
    event: dict[str, Any]
    failed_attempts: int = 0
    due_at: float = 0.0


class AsyncInvocationQueue:
    """Lambda's asynchronous invocation: events wait in a queue and are retried on error.

    Lambda retries an asynchronous event twice (after about one and two minutes), then sends it
    to the on-failure destination. S3 notifications and EventBridge schedules invoke this way.
    Not thread-safe: the one thread that owns the source submits and invokes.

    Parameters
    ----------
    function:
        The function the events are for.
    event_source:
        Names the source in dead letters (``aws:s3``, ``aws.events``).
    retry_policy:
        Retries and backoff; AWS's default is two retries.
    on_failure:
        Where events go once their retries are spent.
    """

    def __init__(
        self,
        function: LambdaFunction,
        event_source: str,
        retry_policy: RetryPolicy,
        on_failure: OnFailureDestination,
        clock: Clock = time.monotonic,
    ) -> None:
        self._function = function
        self._event_source = event_source
        self._retry_policy = retry_policy
        self._on_failure = on_failure
        self._clock = clock
        self._queue: deque[_QueuedEvent] = deque()

    @property
    def pending(self) -> bool:
        return bool(self._queue)

    def seconds_until_due(self) -> float | None:
        if not self._queue:
            return None
        return max(0.0, min(item.due_at for item in self._queue) - self._clock())

    def submit(self, event: dict[str, Any]) -> None:
        self._queue.append(_QueuedEvent(event, due_at=self._clock()))

    def invoke_due(self) -> bool:
        """Invoke every event that is due; True if any was invoked."""
        now = self._clock()
        due = [item for item in self._queue if item.due_at <= now]
        for item in due:
            self._queue.remove(item)
            self._invoke(item)
        return bool(due)

    def _invoke(self, item: _QueuedEvent) -> None:
        try:
            self._function(item.event)
        except Exception as exc:
            item.failed_attempts += 1
            if self._retry_policy.exhausted(item.failed_attempts):
                self._give_up(item, exc)
                return
            log.warning(
                "asynchronous invocation failed, will retry",
                exc_info=True,
                extra={
                    "function_name": self._function.function_name,
                    "failed_attempts": item.failed_attempts,
                },
            )
            item.due_at = self._clock() + self._retry_policy.delay_before_retry(
                item.failed_attempts
            )
            self._queue.append(item)

    def _give_up(self, item: _QueuedEvent, error: BaseException) -> None:
        self._on_failure.send(
            DeadLetter(
                function_name=self._function.function_name,
                event_source=self._event_source,
                condition="RetriesExhausted",
                error=f"{type(error).__name__}: {error}",
                invocation_record={
                    "version": "1.0",
                    "timestamp": utc_timestamp(),
                    "requestContext": request_context(
                        "RetriesExhausted",
                        f"{self._function.function_arn}:$LATEST",
                        item.failed_attempts,
                    ),
                    "requestPayload": item.event,
                    "responseContext": response_context(error),
                    "responsePayload": error_payload(error),
                },
                records=list(item.event.get("Records", [item.event])),
            )
        )
