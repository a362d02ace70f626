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
from datetime import UTC, datetime
from functools import partial
from typing import Any

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
    Activity,
    AsyncInvocationQueue,
    DeadLetter,
    DeadLetters,
    LambdaFunction,
    RetryPolicy,
    Wiring,
)
from local.plumbing.s3_notifications import S3NotificationSource
from local.plumbing.schedules import (
    ScheduledRule,
    ScheduleSource,
    UnsupportedScheduleExpression,
    rate_period,
    scheduled_event,
)
from local.plumbing.sqs_messages import SqsQueueSource

__all__ = ["DeadLetter", "EventPlumbing", "UnsupportedScheduleExpression"]

log = logging.getLogger("local_stack")

# One poller per mapping, per S3 handler, and one for all schedules; each on its own thread.
# Each has `name`, `drained` (nothing pending after its last poll), `prepare()` (find its
# resources and fix starting positions, before `start` returns), `poll()` (read, invoke and
# settle once; True if there was work) and `seconds_until_due()` (when a retry, batching
# window or timer falls due).
EventSource = DynamoDBStreamSource | S3NotificationSource | SqsQueueSource | ScheduleSource

LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account, in every ARN it makes
STAGE = "local"
_IDLE_POLL_INTERVAL_SECONDS = 0.5  # a quiet source polls less and less often, up to this
# A failed poll (the embedded AWS stopped first, say) is retried this often, not every tick.
_FAILING_POLL_INTERVAL_SECONDS = 1.0
_STOP_TIMEOUT_SECONDS = 10.0
# No retries inside a poll: the next poll is the retry, and botocore's backoff on a 500 from
# moto would stall a source for seconds.
_CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)


class EventPlumbing:
    """Delivers events to a Chalice app's handlers as Lambda would, against the embedded AWS.

    Plumbed: ``on_dynamodb_record`` (stream mappings), ``on_s3_event`` (bucket notifications
    through an SQS queue), ``on_sqs_message`` (queue mappings) and ``schedule`` (EventBridge
    rate rules). Other kinds of handler are logged and left out. Stream and queue mappings
    report batch item failures, as ``make deploy`` configures them.

    Parameters
    ----------
    poll_interval_seconds:
        How often a source polls while it has work (Lambda polls a stream four times a
        second); a quiet one backs off, and `wait_until_idle` wakes it at once.
    max_retry_attempts:
        Retries of a stream batch, or of a message on a queue without a redrive policy,
        before it is dead-lettered. AWS retries streams until the records expire unless told
        otherwise; locally the bound keeps a poison record from blocking its shard. S3 and
        schedule invocations are retried twice, as on AWS.
    retry_backoff_seconds:
        Delay before the first retry, doubled for each further one.
    schedule_time_scale:
        Scheduled seconds per real second; 60 fires ``rate(1 minute)`` every second.
    fire_schedules_on_timer:
        False leaves schedules to `run_schedule`.
    """

    def __init__(
        self,
        app: Chalice,
        *,
        poll_interval_seconds: float = 0.1,
        max_retry_attempts: int = 2,
        retry_backoff_seconds: float = 0.05,
        schedule_time_scale: float = 1.0,
        fire_schedules_on_timer: bool = True,
    ) -> None:
        self._app = app
        self._poll_interval_seconds = poll_interval_seconds
        self._batch_retries = RetryPolicy(max_retry_attempts, retry_backoff_seconds)
        self._async_retries = RetryPolicy(2, retry_backoff_seconds)
        self._schedule_time_scale = schedule_time_scale
        self._fire_schedules_on_timer = fire_schedules_on_timer
        self._region = boto3.session.Session().region_name or "us-east-1"
        self._activity = Activity()
        self._dead_letters = DeadLetters()
        self._sources: list[EventSource] = []
        self._started = False
        self._threads: list[threading.Thread] = []
        self._wake_events: dict[str, threading.Event] = {}
        self._stopping = threading.Event()

    @property
    def dead_letters(self) -> list[DeadLetter]:
        """Every batch and event whose retries ran out so far, oldest first."""
        return list(self._dead_letters)

    @property
    def plumbed_handlers(self) -> list[str]:
        return [source.name for source in self._sources]

    def start(self) -> EventPlumbing:
        """Wire every event source of the app and start polling. When this returns, buckets
        are wired and stream positions fixed, so whatever is written afterwards is delivered.
        Raises `UnsupportedScheduleExpression` for a schedule other than ``rate(...)``."""
        if self._started:
            raise RuntimeError("event plumbing is already started")
        self._sources = self._build_sources()
        for source in self._sources:
            source.prepare()
        self._stopping.clear()
        self._started = True
        for source in self._sources:
            wake = self._wake_events[source.name] = threading.Event()
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
        """Wait until every source is caught up and nothing is in flight; False if `timeout`
        passed first.

        Idle means a round in which every source finished a poll that started after the round
        began, each found nothing pending, and no invocation ran anywhere meanwhile. Work a
        handler causes elsewhere (a stream handler writing to another table) is therefore
        waited for too.
        """
        if not self._started:
            raise RuntimeError("event plumbing is not started")
        deadline = time.monotonic() + timeout
        names = [source.name for source in self._sources]
        activity = self._activity
        while True:
            with activity.condition:
                round_start, work_mark = activity.polls_started, activity.work_done
            for wake in self._wake_events.values():
                wake.set()
            with activity.condition:
                if not activity.condition.wait_for(
                    partial(activity.all_polled_after, names, round_start),
                    timeout=max(0.0, deadline - time.monotonic()),
                ):
                    return False
                if activity.quiet_since(names, work_mark):
                    return True
                # Let the pollers' own cadence pace the next round rather than spinning.
                activity.condition.wait(
                    timeout=max(0.0, min(self._poll_interval_seconds, deadline - time.monotonic()))
                )
            if time.monotonic() >= deadline:
                return False

    def run_schedule(self, name: str) -> Any:
        """Fire the schedule registered as `name` now, in this thread, and return its result.
        The handler's exception propagates, so a test sees it. Works without `start`."""
        schedules = [c for c in self._app.event_sources if isinstance(c, ScheduledEventConfig)]
        for config in schedules:
            if config.name == name:
                event = scheduled_event(self._rule_arn(config), datetime.now(UTC))
                return self._function(config)(event)
        raise KeyError(f"no schedule named {name!r}; the app has {[c.name for c in schedules]}")

    def _run(self, source: EventSource, wake: threading.Event) -> None:
        failing = False
        quiet_polls = 0
        while not self._stopping.is_set():
            wake.clear()
            cycle = self._activity.poll_started()
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
            self._activity.poll_finished(source.name, cycle, worked=worked, drained=drained)
            if worked:
                quiet_polls = 0
                continue
            quiet_polls = quiet_polls + 1 if drained else 0
            # A quiet source polls less and less often, up to the idle interval: every
            # GetRecords leaves a shard iterator behind in moto, and every request takes the
            # embedded AWS's lock. wait_until_idle wakes sources at once.
            interval = min(
                max(_IDLE_POLL_INTERVAL_SECONDS, self._poll_interval_seconds),
                self._poll_interval_seconds * 2 ** min(quiet_polls, 16),
            )
            due = source.seconds_until_due()
            if failing:
                interval = _FAILING_POLL_INTERVAL_SECONDS
            elif due is not None:
                interval = min(interval, due)
            wake.wait(interval)

    def _build_sources(self) -> list[EventSource]:
        # Made now, once the embedded AWS's environment is exported; clients are thread-safe.
        session = boto3.session.Session()
        clients = {
            service: session.client(service, region_name=self._region, config=_CLIENT_CONFIG)  # type: ignore[call-overload]
            for service in ("dynamodb", "dynamodbstreams", "s3", "sqs")
        }
        wiring = Wiring(
            clients, self._batch_retries, self._async_retries, self._dead_letters, threading.Lock()
        )
        kinds = {
            DynamoDBEventConfig: DynamoDBStreamSource,
            S3EventConfig: S3NotificationSource,
            SQSEventConfig: SqsQueueSource,
        }
        sources: list[EventSource] = []
        rules: list[ScheduledRule] = []
        for config in self._app.event_sources:
            if isinstance(config, ScheduledEventConfig):
                invocations = AsyncInvocationQueue(self._function(config), "aws.events", wiring)
                period = rate_period(config.schedule_expression)
                rules.append(ScheduledRule(period, self._rule_arn(config), invocations))
            elif type(config) in kinds:
                sources.append(kinds[type(config)](self._function(config), config, wiring))  # type: ignore[arg-type]
            else:
                log.warning(
                    "event source not plumbed locally",
                    extra={"handler": config.name, "kind": type(config).__name__},
                )
        if rules:
            sources.append(
                ScheduleSource(rules, self._schedule_time_scale, self._fire_schedules_on_timer)
            )
        return sources

    def _function(self, config: BaseEventSourceConfig) -> LambdaFunction:
        return LambdaFunction(
            handler_name=config.name,
            function_name=f"{self._app.app_name}-{STAGE}-{config.name}",
            handler=self._app.handler_map[config.name],
            activity=self._activity,
        )

    def _rule_arn(self, config: ScheduledEventConfig) -> str:
        rule_name = f"{self._app.app_name}-{STAGE}-{config.name}-event"
        return f"arn:aws:events:{self._region}:{LOCAL_ACCOUNT_ID}:rule/{rule_name}"
