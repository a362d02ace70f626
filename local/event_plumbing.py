"""Lambda's event delivery for the local stack, wired from what the Chalice app registers.

On AWS, event source mappings, S3 notifications and EventBridge rules invoke the functions
Chalice deploys. moto can't run Lambdas without Docker, so `EventPlumbing` reads
``app.event_sources`` and does that delivery in-process, calling ``app.handler_map[name]``
with events shaped as Lambda shapes them. A handler registered later is plumbed with no code.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

import boto3
from botocore.config import Config
from chalice import Chalice
from chalice.app import (
    BaseEventSourceConfig,
    DynamoDBEventConfig,
    S3EventConfig,
    ScheduledEventConfig,
    SQSEventConfig,
)

from local.plumbing.dynamodb_streams import DynamoDBStreamSource
from local.plumbing.lambda_semantics import (
    AsyncInvocationQueue,
    InvocationTracker,
    LambdaFunction,
    RetryPolicy,
)
from local.plumbing.on_failure import (
    DeadLetter,
    OnFailureDestination,
    lambda_function_arn,
)
from local.plumbing.s3_notifications import S3NotificationSource
from local.plumbing.scheduled_events import (
    ScheduledRule,
    ScheduleSource,
    scheduled_event,
)
from local.plumbing.schedules import (
    UnsupportedScheduleExpression,
    parse_schedule_expression,
)
from local.plumbing.sqs_messages import SqsQueueSource

__all__ = ["DeadLetter", "EventPlumbing", "EventSource", "UnsupportedScheduleExpression"]

log = logging.getLogger("local_stack")

# moto's default account: the one every ARN in the embedded AWS carries.
LOCAL_ACCOUNT_ID = "123456789012"
# A failed poll (the embedded AWS stopped first, say) is retried this often, not every tick.
_FAILING_POLL_INTERVAL_SECONDS = 1.0
_STOP_TIMEOUT_SECONDS = 10.0
# No retries inside a poll: the next poll is the retry, and botocore's backoff on a 500 from
# moto would stall a source for seconds.
_CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)


class EventSource(Protocol):
    """One poller: a mapping, a bucket's notifications, or the schedules. Runs on one thread."""

    name: str

    @property
    def drained(self) -> bool:
        """Nothing pending after the last poll: caught up, no batch waiting or retrying."""
        ...

    def prepare(self) -> None:
        """Find resources and fix starting positions; runs before `EventPlumbing.start` returns."""
        ...

    def poll(self) -> bool:
        """Read, invoke and settle once; True if there was work, so poll again at once."""
        ...

    def request_refresh(self) -> None:
        """Look for new shards, recreated tables, rewired buckets at the next poll."""
        ...

    def seconds_until_due(self) -> float | None:
        """When a retry, batching window or timer falls due, if sooner than the next poll."""
        ...


class _PollCycles:
    """Which poll each source last finished and whether it was quiet, for `wait_until_idle`."""

    def __init__(self, tracker: InvocationTracker) -> None:
        self.tracker = tracker
        self.condition = tracker.condition
        self._started = 0
        self._last_finished: dict[str, tuple[int, bool]] = {}

    def started(self) -> int:
        with self.condition:
            self._started += 1
            return self._started

    def finished(self, source: str, cycle: int, *, worked: bool, drained: bool) -> None:
        with self.condition:
            self._last_finished[source] = (cycle, drained and not worked)
            if worked:
                self.tracker.work_done += 1
            self.condition.notify_all()

    def mark(self) -> tuple[int, int]:
        with self.condition:
            return self._started, self.tracker.work_done

    def all_finished_after(self, sources: Sequence[str], cycle: int) -> bool:
        return all(self._last_finished.get(name, (0, False))[0] > cycle for name in sources)

    def all_quiet(self, sources: Sequence[str]) -> bool:
        return all(self._last_finished.get(name, (0, False))[1] for name in sources)


class EventPlumbing:
    """Delivers events to a Chalice app's handlers as Lambda would, against the embedded AWS.

    Plumbed: ``on_dynamodb_record`` (stream mappings), ``on_s3_event`` (bucket notifications
    through an SQS queue), ``on_sqs_message`` (queue mappings) and ``schedule`` (EventBridge
    rules). SNS, Kinesis and CloudWatch event-pattern handlers are logged and left out.

    Parameters
    ----------
    app:
        The Chalice app; its ``event_sources`` and ``handler_map`` say what to wire.
    poll_interval_seconds:
        How often a source polls while it has work. Lambda polls a stream four times a second.
    idle_poll_interval_seconds:
        The longest wait between polls of a source that keeps finding nothing: its interval
        doubles from `poll_interval_seconds` up to this. `wait_until_idle` wakes it at once.
    max_retry_attempts:
        Retries of a stream batch, or of a message on a queue without a redrive policy,
        before it goes to the on-failure destination. AWS retries streams until the records
        expire unless told otherwise; locally the bound keeps a poison record from blocking
        its shard.
    max_async_retry_attempts:
        Retries of an S3 or schedule invocation; two on AWS.
    retry_backoff_seconds:
        Delay before the first retry, doubled for each further one.
    bisect_batch_on_function_error:
        The mapping setting BisectBatchOnFunctionError, for every stream mapping.
    report_batch_item_failures:
        The mapping setting FunctionResponseTypes=ReportBatchItemFailures, for stream and queue
        mappings; on by default as the app's batch handlers rely on it.
    batching_window_scale:
        Multiplies each mapping's MaximumBatchingWindowInSeconds; below 1 makes local runs
        quicker.
    schedule_time_scale:
        Scheduled seconds per real second; 60 fires ``rate(1 minute)`` every second.
    fire_schedules_on_timer:
        False leaves schedules to `run_schedule`.
    on_failure_queue_name:
        An SQS queue to send on-failure records to, created if missing. Dead letters are
        always logged at error and kept in `dead_letters`.
    stage:
        Names functions ``<app>-<stage>-<handler>``, as Chalice deploys them.
    region_name:
        The region of the clients; the environment's by default.
    """

    def __init__(
        self,
        app: Chalice,
        *,
        poll_interval_seconds: float = 0.1,
        idle_poll_interval_seconds: float = 0.5,
        max_retry_attempts: int = 2,
        max_async_retry_attempts: int = 2,
        retry_backoff_seconds: float = 0.05,
        bisect_batch_on_function_error: bool = False,
        report_batch_item_failures: bool = True,
        batching_window_scale: float = 1.0,
        schedule_time_scale: float = 1.0,
        fire_schedules_on_timer: bool = True,
        on_failure_queue_name: str | None = None,
        stage: str = "local",
        region_name: str | None = None,
        refresh_interval_seconds: float = 1.0,
    ) -> None:
        self._app = app
        self._poll_interval_seconds = poll_interval_seconds
        self._idle_poll_interval_seconds = max(idle_poll_interval_seconds, poll_interval_seconds)
        self._stream_retry_policy = RetryPolicy(max_retry_attempts, retry_backoff_seconds)
        self._async_retry_policy = RetryPolicy(max_async_retry_attempts, retry_backoff_seconds)
        self._bisect = bisect_batch_on_function_error
        self._report_batch_item_failures = report_batch_item_failures
        self._batching_window_scale = batching_window_scale
        self._schedule_time_scale = schedule_time_scale
        self._fire_schedules_on_timer = fire_schedules_on_timer
        self._stage = stage
        self._refresh_interval_seconds = refresh_interval_seconds
        self._region_name = region_name
        self._session = boto3.session.Session()
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._tracker = InvocationTracker()
        self._cycles = _PollCycles(self._tracker)
        self._on_failure = OnFailureDestination(lambda: self._client("sqs"), on_failure_queue_name)
        self._sources: list[EventSource] = []
        self._threads: list[threading.Thread] = []
        self._started = False
        self._wake_events: dict[str, threading.Event] = {}
        self._stopping = threading.Event()

    @property
    def _region(self) -> str:
        return self._region_name or self._session.region_name or "us-east-1"

    @property
    def dead_letters(self) -> list[DeadLetter]:
        """Everything sent to the on-failure destination so far, oldest first."""
        return self._on_failure.dead_letters

    @property
    def plumbed_handlers(self) -> list[str]:
        return [source.name for source in self._sources]

    def start(self) -> EventPlumbing:
        """Wire every event source of the app and start polling.

        When this returns, buckets are wired and stream positions fixed, so whatever is
        written afterwards is delivered.

        Raises
        ------
        UnsupportedScheduleExpression
            If a schedule's expression can't be fired locally.
        """
        if self._started:
            raise RuntimeError("event plumbing is already started")
        self._sources = self._build_sources()
        for source in self._sources:
            source.prepare()
        self._stopping.clear()
        self._started = True
        for source in self._sources:
            wake = threading.Event()
            self._wake_events[source.name] = wake
            thread = threading.Thread(
                target=self._run, args=(source, wake), name=f"plumbing-{source.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        log.info("event plumbing started", extra={"handlers": self.plumbed_handlers})
        return self

    def stop(self) -> None:
        """Stop polling; waits for invocations in flight to return."""
        self._stopping.set()
        for wake in self._wake_events.values():
            wake.set()
        for thread in self._threads:
            thread.join(timeout=_STOP_TIMEOUT_SECONDS)
            if thread.is_alive():
                log.warning("event source thread did not stop", extra={"thread": thread.name})
        self._threads.clear()
        self._wake_events.clear()
        self._started = False
        log.info("event plumbing stopped")

    def __enter__(self) -> EventPlumbing:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every source is caught up and nothing is in flight, or `timeout` passes.

        Idle means a round in which every source finished a poll that started after the round
        began, each found nothing pending, and no invocation ran anywhere meanwhile. Work a
        handler causes elsewhere (a stream handler writing to another table) is therefore
        waited for too.

        Returns
        -------
        bool
            True once idle; False if `timeout` passed first.
        """
        if not self._started:
            raise RuntimeError("event plumbing is not started")
        deadline = time.monotonic() + timeout
        names = [source.name for source in self._sources]
        condition = self._cycles.condition
        while True:
            round_start, work_mark = self._cycles.mark()
            for source in self._sources:
                source.request_refresh()
                self._wake_events[source.name].set()
            with condition:
                finished = condition.wait_for(
                    partial(self._cycles.all_finished_after, names, round_start),
                    timeout=max(0.0, deadline - time.monotonic()),
                )
                if not finished:
                    return False
                if (
                    self._tracker.in_flight == 0
                    and self._tracker.work_done == work_mark
                    and self._cycles.all_quiet(names)
                ):
                    return True
                # Let the pollers' own cadence pace the next round rather than spinning.
                condition.wait(
                    timeout=max(0.0, min(self._poll_interval_seconds, deadline - time.monotonic()))
                )
            if time.monotonic() >= deadline:
                return False

    def run_schedule(self, name: str) -> Any:
        """Fire the schedule registered as `name` now, in this thread, and return its result.

        The handler's exception propagates, so a test sees it. Works without `start`.
        """
        for config in self._app.event_sources:
            if isinstance(config, ScheduledEventConfig) and config.name == name:
                function = self._function(config)
                return function(scheduled_event(self._rule_arn(config), datetime.now(UTC)))
        schedules = [c.name for c in self._app.event_sources if isinstance(c, ScheduledEventConfig)]
        raise KeyError(f"no schedule named {name!r}; the app has {schedules}")

    def _run(self, source: EventSource, wake: threading.Event) -> None:
        failing = False
        quiet_polls = 0
        while not self._stopping.is_set():
            wake.clear()
            cycle = self._cycles.started()
            worked = drained = False
            try:
                worked = source.poll()
                drained = source.drained
                if failing:
                    log.info("event source recovered", extra={"handler": source.name})
                failing = False
            except Exception:
                if not failing:
                    log.exception(
                        "event source poll failed, retrying", extra={"handler": source.name}
                    )
                failing = True
            self._cycles.finished(source.name, cycle, worked=worked, drained=drained)
            if worked:
                quiet_polls = 0
                continue
            quiet_polls = quiet_polls + 1 if drained else 0
            wake.wait(
                _FAILING_POLL_INTERVAL_SECONDS if failing else self._wait_after(source, quiet_polls)
            )

    def _wait_after(self, source: EventSource, quiet_polls: int) -> float:
        # A quiet source polls less and less often, up to the idle interval: every GetRecords
        # leaves a shard iterator behind in moto, and every request takes the embedded AWS's
        # lock. wait_until_idle wakes sources at once, so tests don't pay for the backoff.
        interval = min(
            self._idle_poll_interval_seconds,
            self._poll_interval_seconds * 2 ** min(quiet_polls, 16),
        )
        due = source.seconds_until_due()
        return interval if due is None else min(interval, due)

    def _build_sources(self) -> list[EventSource]:
        sources: list[EventSource] = []
        rules: list[ScheduledRule] = []
        wiring_lock = threading.Lock()
        for config in self._app.event_sources:
            if isinstance(config, DynamoDBEventConfig):
                sources.append(self._stream_source(config))
            elif isinstance(config, S3EventConfig):
                sources.append(self._s3_source(config, wiring_lock))
            elif isinstance(config, SQSEventConfig):
                sources.append(self._sqs_source(config))
            elif isinstance(config, ScheduledEventConfig):
                rules.append(self._scheduled_rule(config))
            else:
                log.warning(
                    "event source not plumbed locally",
                    extra={"handler": config.name, "kind": type(config).__name__},
                )
        if rules:
            sources.append(
                ScheduleSource(
                    rules,
                    time_scale=self._schedule_time_scale,
                    fire_on_timer=self._fire_schedules_on_timer,
                )
            )
        return sources

    def _stream_source(self, config: DynamoDBEventConfig) -> DynamoDBStreamSource:
        return DynamoDBStreamSource(
            self._function(config),
            stream_arn=config.stream_arn,
            batch_size=config.batch_size,
            starting_position=config.starting_position,
            batching_window_seconds=self._batching_window(
                config.maximum_batching_window_in_seconds
            ),
            retry_policy=self._stream_retry_policy,
            bisect_batch_on_function_error=self._bisect,
            report_batch_item_failures=self._report_batch_item_failures,
            on_failure=self._on_failure,
            dynamodb=self._client("dynamodb"),
            streams=self._client("dynamodbstreams"),
            refresh_interval_seconds=self._refresh_interval_seconds,
        )

    def _s3_source(
        self, config: S3EventConfig, wiring_lock: threading.Lock
    ) -> S3NotificationSource:
        return S3NotificationSource(
            self._function(config),
            bucket=config.bucket,
            events=config.events,
            prefix=config.prefix,
            suffix=config.suffix,
            retry_policy=self._async_retry_policy,
            on_failure=self._on_failure,
            s3=self._client("s3"),
            sqs=self._client("sqs"),
            wiring_lock=wiring_lock,
            refresh_interval_seconds=self._refresh_interval_seconds,
        )

    def _sqs_source(self, config: SQSEventConfig) -> SqsQueueSource:
        queue_name = config.queue or (config.queue_arn or "").rsplit(":", 1)[-1]
        return SqsQueueSource(
            self._function(config),
            queue_name=queue_name,
            batch_size=config.batch_size,
            batching_window_seconds=self._batching_window(
                config.maximum_batching_window_in_seconds
            ),
            retry_policy=self._stream_retry_policy,
            report_batch_item_failures=self._report_batch_item_failures,
            on_failure=self._on_failure,
            sqs=self._client("sqs"),
            refresh_interval_seconds=self._refresh_interval_seconds,
        )

    def _scheduled_rule(self, config: ScheduledEventConfig) -> ScheduledRule:
        function = self._function(config)
        return ScheduledRule(
            function=function,
            schedule=parse_schedule_expression(config.schedule_expression),
            rule_arn=self._rule_arn(config),
            invocations=AsyncInvocationQueue(
                function, "aws.events", self._async_retry_policy, self._on_failure
            ),
        )

    def _batching_window(self, seconds: float | None) -> float:
        return (seconds or 0) * self._batching_window_scale

    def _function(self, config: BaseEventSourceConfig) -> LambdaFunction:
        function_name = f"{self._app.app_name}-{self._stage}-{config.name}"
        return LambdaFunction(
            handler_name=config.name,
            function_name=function_name,
            function_arn=lambda_function_arn(function_name, self._region, LOCAL_ACCOUNT_ID),
            handler=self._app.handler_map[config.name],
            tracker=self._tracker,
        )

    def _rule_arn(self, config: ScheduledEventConfig) -> str:
        rule_name = f"{self._app.app_name}-{self._stage}-{config.name}-event"
        return f"arn:aws:events:{self._region}:{LOCAL_ACCOUNT_ID}:rule/{rule_name}"

    def _client(self, service: str) -> Any:
        # Made on first use, so the embedded AWS's environment is exported by then; shared
        # by the source threads (clients are thread-safe, creating them is not).
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(  # type: ignore[call-overload]
                    service, region_name=self._region, config=_CLIENT_CONFIG
                )
            return self._clients[service]
