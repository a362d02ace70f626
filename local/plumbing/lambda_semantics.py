"""What the Lambda service does around a handler, shared by every event source: invoke it, read
a batch response, retry, and give up into the dead letters."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from local.lambda_runtime import LambdaHandler, invoke

log = logging.getLogger("local_stack")


class Activity:
    """Invocations in flight, work done and each source's last poll, for `wait_until_idle`."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.in_flight = self.work_done = self.polls_started = 0
        self._last_polls: dict[str, tuple[int, bool]] = {}  # source: (poll, quiet)

    def invocation(self, delta: int) -> None:
        with self.condition:
            self.in_flight += delta
            self.work_done += 1
            self.condition.notify_all()

    def poll_started(self) -> int:
        with self.condition:
            self.polls_started += 1
            return self.polls_started

    def poll_finished(self, source: str, poll: int, *, worked: bool, drained: bool) -> None:
        with self.condition:
            self._last_polls[source] = (poll, drained and not worked)
            self.work_done += worked
            self.condition.notify_all()

    def all_polled_after(self, sources: list[str], poll: int) -> bool:
        return all(self._last_polls.get(name, (0, False))[0] > poll for name in sources)

    def quiet_since(self, sources: list[str], work_mark: int) -> bool:
        quiet = all(self._last_polls.get(name, (0, False))[1] for name in sources)
        return quiet and self.in_flight == 0 and self.work_done == work_mark


@dataclass(frozen=True)
class LambdaFunction:
    """One handler (`app.handler_map[handler_name]`), deployed as ``<app>-<stage>-<handler>``."""

    handler_name: str
    function_name: str
    handler: LambdaHandler
    activity: Activity

    def __call__(self, event: dict[str, Any]) -> Any:
        self.activity.invocation(+1)
        try:
            describe = functools.partial(describe_delivery, self.handler_name, event)
            return invoke(self.handler, event, self.function_name, describe=describe)
        finally:
            self.activity.invocation(-1)


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
    """Retries after the first attempt, then the dead letters. The delay before a retry starts
    at `backoff_seconds` and doubles (AWS waits seconds to minutes; tests can't)."""

    max_retry_attempts: int = 2
    backoff_seconds: float = 0.05

    def delay_before_retry(self, failed_attempts: int) -> float:
        return min(2.0, self.backoff_seconds * 2 ** (failed_attempts - 1))

    def exhausted(self, failed_attempts: int) -> bool:
        return failed_attempts > self.max_retry_attempts


@dataclass(frozen=True)
class DeadLetter:
    """A batch or event whose retries ran out (on AWS: the on-failure destination, or the
    queue's own dead-letter queue)."""

    function_name: str
    event_source: str  # aws:dynamodb, aws:sqs, aws:s3 or aws.events
    error: str
    records: list[dict[str, Any]]


class DeadLetters(list[DeadLetter]):
    """Every dead letter so far (appending is atomic, so sources on any thread may send)."""

    def send(self, function: LambdaFunction, source: str, error: str, records: list[Any]) -> None:
        self.append(DeadLetter(function.function_name, source, error, records))
        log.error(
            "retries exhausted, event dead-lettered",
            extra={"function_name": function.function_name, "event_source": source,
                   "error": error, "record_count": len(records)},
        )  # fmt: skip


@dataclass(frozen=True)
class Wiring:
    """What every source of one `EventPlumbing` shares."""

    clients: dict[str, Any]  # boto3 clients by service name
    batch_retries: RetryPolicy  # stream batches, and messages of queues without redrive
    async_retries: RetryPolicy  # S3 and schedule invocations
    dead_letters: DeadLetters
    lock: threading.Lock  # S3 sources read, merge and write a bucket's notifications under it


@dataclass(frozen=True)
class BatchOutcome:
    """Lambda's reading of a batch handler's result (ReportBatchItemFailures on)."""

    failed_identifiers: frozenset[str] = frozenset()
    whole_batch_failed: bool = False
    error: BaseException | None = None

    @property
    def succeeded(self) -> bool:
        return not self.whole_batch_failed and not self.failed_identifiers

    def failed_indexes(self, identifiers: Sequence[str]) -> list[int]:
        """The positions in the batch that failed: all of them when the whole batch did."""
        return [
            index
            for index, identifier in enumerate(identifiers)
            if self.whole_batch_failed or identifier in self.failed_identifiers
        ]

    def describe(self) -> str:
        if self.error is not None:
            return f"{type(self.error).__name__}: {self.error}"
        if self.whole_batch_failed:
            return "handler returned unusable batchItemFailures"
        return f"handler reported {len(self.failed_identifiers)} failed item(s)"


def invoke_batch(
    function: LambdaFunction, event: dict[str, Any], identifiers: Sequence[str]
) -> BatchOutcome:
    """The one delivery step of stream and queue batches: invoke, read the result as Lambda does.

    None, a response without ``batchItemFailures`` and an empty list mean success. A handler
    that raises, a failure list that is not a list, or an entry whose ``itemIdentifier`` is
    missing, empty or not in the batch fail the whole batch, as on AWS.
    """
    try:
        response = function(event)
    except Exception as exc:
        log.warning(
            "handler raised, batch failed",
            exc_info=True,
            extra={"function_name": function.function_name, "batch_size": len(identifiers)},
        )
        return BatchOutcome(whole_batch_failed=True, error=exc)
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if failures is None:
        return BatchOutcome()
    if not isinstance(failures, list):
        return BatchOutcome(whole_batch_failed=True)
    failed = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
    if not failed <= set(identifiers):
        log.warning(
            "unusable batch item failures, failing the whole batch",
            extra={"failures": repr(failures)},
        )
        return BatchOutcome(whole_batch_failed=True)
    return BatchOutcome(failed_identifiers=frozenset(str(f) for f in failed))


@dataclass
class Buffer:
    """Records read and not yet done with, and since when the oldest has waited for its batch."""

    records: list[dict[str, Any]] = field(default_factory=list)
    since: float | None = None

    def add(self, records: list[dict[str, Any]]) -> None:
        if records and not self.records:
            self.since = time.monotonic()
        self.records += records

    def drop(self, count: int) -> None:
        del self.records[:count]
        if not self.records:
            self.since = None

    def filling(self, batch_size: int, window_seconds: float) -> bool:
        """Not a whole batch yet, and the batching window not over."""
        return (
            len(self.records) < batch_size
            and self.since is not None
            and time.monotonic() - self.since < window_seconds
        )

    def window_closes_at(self, window_seconds: float) -> float | None:
        return None if self.since is None or not window_seconds else self.since + window_seconds


@dataclass
class _QueuedEvent:
    event: dict[str, Any]
    failed_attempts: int = 0
    due_at: float = field(default_factory=time.monotonic)


class AsyncInvocationQueue:
    """Lambda's asynchronous invocation (S3 notifications, schedules): events wait in a queue,
    a failed one is retried (twice on AWS), then dead-lettered. Used by one thread only."""

    def __init__(self, function: LambdaFunction, event_source: str, wiring: Wiring) -> None:
        self._function = function
        self._event_source = event_source
        self._wiring = wiring
        self._queue: list[_QueuedEvent] = []

    @property
    def pending(self) -> bool:
        return bool(self._queue)

    def seconds_until_due(self) -> float | None:
        due = min((item.due_at for item in self._queue), default=None)
        return None if due is None else max(0.0, due - time.monotonic())

    def submit(self, event: dict[str, Any]) -> None:
        self._queue.append(_QueuedEvent(event))

    def invoke_due(self) -> bool:
        """Invoke every event that is due; True if any was invoked."""
        now = time.monotonic()
        due = [item for item in self._queue if item.due_at <= now]
        for item in due:
            self._queue.remove(item)
            try:
                self._function(item.event)
            except Exception as error:
                item.failed_attempts += 1
                retries = self._wiring.async_retries
                if retries.exhausted(item.failed_attempts):
                    records = list(item.event.get("Records", [item.event]))
                    self._wiring.dead_letters.send(
                        self._function,
                        self._event_source,
                        f"{type(error).__name__}: {error}",
                        records,
                    )
                    continue
                log.warning(
                    "asynchronous invocation failed, will retry",
                    exc_info=True,
                    extra={"function_name": self._function.function_name,
                           "failed_attempts": item.failed_attempts},
                )  # fmt: skip
                item.due_at = time.monotonic() + retries.delay_before_retry(item.failed_attempts)
                self._queue.append(item)
        return bool(due)
