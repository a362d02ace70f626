"""DynamoDB Streams delivered to a handler as a Lambda event source mapping delivers them.

Per shard one batch is in flight at a time, in sequence-number order. A handler that raises
gets the same batch again; one that reports batch item failures is checkpointed just before
the lowest failed record, and the next batch starts there. When the retries for a record are
spent, the batch's description goes to the on-failure destination and the shard moves on.
"""

from __future__ import annotations

import base64
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from local.plumbing.lambda_semantics import (
    BatchOutcome,
    Clock,
    LambdaFunction,
    RetryPolicy,
    invoke_batch,
)
from local.plumbing.on_failure import (
    DeadLetter,
    OnFailureDestination,
    request_context,
    response_context,
    utc_timestamp,
)

log = logging.getLogger("local_stack")

# get_records returns at most 1000 records, whatever the mapping's batch size.
_MAX_RECORDS_PER_READ = 1000
_ITERATOR_LOST = {"ExpiredIteratorException", "TrimmedDataAccessException"}


def lambda_stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """Turn a GetRecords record (as boto3 parses it) into a record of Lambda's DynamoDB event.

    GetRecords has no ``eventSourceARN``; boto3 turns ``ApproximateCreationDateTime`` into a
    datetime and binary attributes into bytes, where Lambda's JSON event has epoch seconds and
    base64 strings. moto also writes ``awsRegion`` as us-east-1 whatever the table's region.
    """
    stream_record = record["dynamodb"]
    created = stream_record.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        created = int(created.timestamp())
    dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": created}
    for image in ("Keys", "NewImage", "OldImage"):
        if image in stream_record:
            dynamodb[image] = {
                name: _json_attribute_value(value) for name, value in stream_record[image].items()
            }
    dynamodb["SequenceNumber"] = stream_record["SequenceNumber"]
    dynamodb["SizeBytes"] = stream_record["SizeBytes"]
    dynamodb["StreamViewType"] = stream_record["StreamViewType"]
    shaped: dict[str, Any] = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        # Lambda's events carry 1.1, the current stream record format; moto writes 1.0.
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": stream_arn.split(":")[3],
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:
        # Present on TTL deletes: {"type": "Service", "principalId": "dynamodb.amazonaws.com"}.
        shaped["userIdentity"] = record["userIdentity"]
    return shaped


def _json_attribute_value(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, content),) = value.items()
    if kind == "B":
        return {"B": _base64(content)}
    if kind == "BS":
        return {"BS": [_base64(item) for item in content]}
    if kind == "M":
        return {"M": {name: _json_attribute_value(item) for name, item in content.items()}}
    if kind == "L":
        return {"L": [_json_attribute_value(item) for item in content]}
    return {kind: content}


def _base64(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    return base64.b64encode(content).decode("ascii")


def _table_name(stream_arn: str) -> str:
    # arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
    resource = stream_arn.split(":", 5)[-1].split("/")
    if not stream_arn.startswith("arn:") or len(resource) < 2 or resource[0] != "table":
        raise ValueError(f"{stream_arn!r} is not a DynamoDB stream ARN")
    return resource[1]


def _sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


@dataclass
class _ShardReader:
    """Where the mapping stands in one shard: what it has read and not yet checkpointed."""

    shard_id: str
    parent_shard_id: str | None
    starting_position: str
    iterator: str | None = None
    last_read_sequence: str | None = None
    # Records read after the checkpoint. The next batch is always a prefix of this list, so
    # checkpointing is dropping records from its front.
    buffer: list[dict[str, Any]] = field(default_factory=list)
    buffered_since: float | None = None
    # Set while a batch must be delivered again exactly as it was (a retry) or split in two
    # (bisect on error): the lengths of the next batches.
    pinned_batch_lengths: deque[int] = field(default_factory=deque)
    caught_up: bool = False
    # GetRecords returned no next iterator: the shard was closed and has been read to its end.
    closed: bool = False
    failing_sequence: str | None = None
    failed_attempts: int = 0
    retry_due_at: float = 0.0

    @property
    def finished(self) -> bool:
        return self.closed and not self.buffer

    @property
    def drained(self) -> bool:
        return self.finished or (self.caught_up and not self.buffer)

    def checkpoint(self, record_count: int) -> None:
        """Mark the first `record_count` buffered records as processed."""
        del self.buffer[:record_count]
        if not self.buffer:
            self.buffered_since = None

    def count_failure(self, sequence: str) -> int:
        """Count one more failed attempt at the batch that starts at `sequence`."""
        if self.failing_sequence == sequence:
            self.failed_attempts += 1
        else:
            self.failing_sequence, self.failed_attempts = sequence, 1
        return self.failed_attempts

    def forget_failures(self) -> None:
        self.failing_sequence, self.failed_attempts = None, 0


class DynamoDBStreamSource:
    """An event source mapping from one DynamoDB stream to one handler.

    The stream is found through its table: the table named in the configured ARN is described
    and its current stream read. A table that is missing, or recreated with a new stream, is
    picked up on the next refresh; shards that appear after the mapping started (a recreated
    table, a shard split) are read from TRIM_HORIZON, as everything in them is newer than the
    mapping. Shards are read in parallel in AWS; here one thread visits them in turn, and a
    child shard waits until its parent is read to the end.

    Parameters
    ----------
    function:
        The handler to deliver to.
    stream_arn:
        The ARN from ``@app.on_dynamodb_record``; only its table name has to match.
    batch_size, starting_position, batching_window_seconds:
        As configured on the mapping.
    retry_policy:
        Retries for a batch whose handler raised or reported failures.
    bisect_batch_on_function_error:
        Split a batch whose handler raised in two and retry the halves; splits don't count
        as retries.
    report_batch_item_failures:
        Read ``batchItemFailures`` from the handler's response (FunctionResponseTypes).
    """

    event_source = "aws:dynamodb"

    def __init__(
        self,
        function: LambdaFunction,
        *,
        stream_arn: str,
        batch_size: int,
        starting_position: str,
        batching_window_seconds: float,
        retry_policy: RetryPolicy,
        bisect_batch_on_function_error: bool,
        report_batch_item_failures: bool,
        on_failure: OnFailureDestination,
        dynamodb: Any,
        streams: Any,
        refresh_interval_seconds: float = 1.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.name = function.handler_name
        self._function = function
        self._table_name = _table_name(stream_arn)
        self._batch_size = batch_size
        self._starting_position = starting_position
        self._batching_window_seconds = batching_window_seconds
        self._retry_policy = retry_policy
        self._bisect = bisect_batch_on_function_error
        self._report_batch_item_failures = report_batch_item_failures
        self._on_failure = on_failure
        self._dynamodb = dynamodb
        self._streams = streams
        self._refresh_interval_seconds = refresh_interval_seconds
        self._clock = clock
        self._stream_arn: str | None = None
        self._readers: dict[str, _ShardReader] = {}
        self._mapping_started = False
        self._refresh_due_at = 0.0
        self._waiting_reported = False

    @property
    def drained(self) -> bool:
        return all(reader.drained for reader in self._readers.values())

    def request_refresh(self) -> None:
        self._refresh_due_at = 0.0

    def seconds_until_due(self) -> float | None:
        waiting = [
            reader.retry_due_at
            for reader in self._readers.values()
            if reader.buffer and reader.retry_due_at > 0
        ]
        if self._batching_window_seconds:
            waiting += [
                reader.buffered_since + self._batching_window_seconds
                for reader in self._readers.values()
                if reader.buffered_since is not None
            ]
        if not waiting:
            return None
        return max(0.0, min(waiting) - self._clock())

    def prepare(self) -> None:
        """Find the stream and fix the starting position of the shards it has now."""
        self._refresh()
        self._mapping_started = True

    def poll(self) -> bool:
        if self._clock() >= self._refresh_due_at:
            self._refresh()
        worked = False
        for reader in list(self._readers.values()):
            if reader.finished or not self._parent_finished(reader):
                continue
            worked = self._poll_shard(reader) or worked
        return worked

    def _parent_finished(self, reader: _ShardReader) -> bool:
        parent = self._readers.get(reader.parent_shard_id or "")
        return parent is None or parent.finished

    def _refresh(self) -> None:
        self._refresh_due_at = self._clock() + self._refresh_interval_seconds
        stream_arn = self._current_stream_arn()
        if stream_arn is None:
            return
        if stream_arn != self._stream_arn:
            if self._stream_arn is not None:
                log.info(
                    "table has a new stream, reading it from the start",
                    extra={"function_name": self._function.function_name, "stream_arn": stream_arn},
                )
                self._readers.clear()
            self._stream_arn = stream_arn
        for shard in self._describe_shards(stream_arn):
            if shard["ShardId"] not in self._readers:
                self._add_reader(shard)

    def _current_stream_arn(self) -> str | None:
        # Ask the table, not the stream: moto answers DescribeStream on a table without a
        # stream with a 500, and the table also says when it was recreated with a new stream.
        try:
            table = self._dynamodb.describe_table(TableName=self._table_name)["Table"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            table = {}
        stream_arn = table.get("LatestStreamArn")
        if not table.get("StreamSpecification", {}).get("StreamEnabled") or not stream_arn:
            if not self._waiting_reported:
                log.warning(
                    "stream not found, waiting for its table",
                    extra={
                        "function_name": self._function.function_name,
                        "table_name": self._table_name,
                    },
                )
                self._waiting_reported = True
            self._stream_arn = None
            self._readers.clear()
            return None
        self._waiting_reported = False
        return str(stream_arn)

    def _describe_shards(self, stream_arn: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": stream_arn}
        while True:
            description = self._streams.describe_stream(**request)["StreamDescription"]
            shards += description.get("Shards", [])
            last_shard = description.get("LastEvaluatedShardId")
            if not last_shard:
                return shards
            request["ExclusiveStartShardId"] = last_shard

    def _add_reader(self, shard: dict[str, Any]) -> None:
        # LATEST means "after the mapping was created": only shards that existed then start
        # there. Everything in a shard found later is newer than the mapping.
        position = self._starting_position if not self._mapping_started else "TRIM_HORIZON"
        reader = _ShardReader(shard["ShardId"], shard.get("ParentShardId"), position)
        # Take the iterator now: a LATEST iterator taken at the first poll would skip what
        # was written in between.
        reader.iterator = self._shard_iterator(reader)
        self._readers[reader.shard_id] = reader
        log.info(
            "reading stream shard",
            extra={
                "function_name": self._function.function_name,
                "stream_arn": self._stream_arn,
                "shard_id": reader.shard_id,
                "starting_position": position,
            },
        )

    def _shard_iterator(self, reader: _ShardReader) -> str:
        request: dict[str, Any] = {"StreamArn": self._stream_arn, "ShardId": reader.shard_id}
        if reader.last_read_sequence is not None:
            request["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            request["SequenceNumber"] = reader.last_read_sequence
        else:
            request["ShardIteratorType"] = reader.starting_position
        return str(self._streams.get_shard_iterator(**request)["ShardIterator"])

    def _poll_shard(self, reader: _ShardReader) -> bool:
        if reader.buffer and reader.retry_due_at > self._clock():
            return False
        read_count = self._read(reader)
        if not reader.buffer:
            return False
        batch_full = len(reader.buffer) >= self._batch_size
        window_open = (
            reader.buffered_since is not None
            and self._clock() - reader.buffered_since < self._batching_window_seconds
        )
        if not batch_full and window_open and not reader.closed and not reader.pinned_batch_lengths:
            return read_count > 0
        self._deliver(reader)
        return True

    def _read(self, reader: _ShardReader) -> int:
        wanted = min(_MAX_RECORDS_PER_READ, self._batch_size - len(reader.buffer))
        if reader.closed or wanted <= 0:
            return 0
        if reader.iterator is None:
            reader.iterator = self._shard_iterator(reader)
        try:
            response = self._streams.get_records(ShardIterator=reader.iterator, Limit=wanted)
        except ClientError as exc:
            # Whatever went wrong, the next read takes a fresh iterator after the last record
            # read, so a bad iterator can't wedge the shard.
            reader.iterator = None
            code = exc.response["Error"]["Code"]
            if code in _ITERATOR_LOST:
                return 0
            if code == "ResourceNotFoundException":
                self.request_refresh()
                return 0
            raise
        records = response.get("Records", [])
        reader.iterator = response.get("NextShardIterator")
        reader.closed = reader.iterator is None
        reader.caught_up = not records
        if not records and not reader.closed and reader.last_read_sequence is not None:
            # A failed transaction makes moto restore a copy of the table, stream shard
            # included, and an iterator into the old shard never sees another record. A
            # caught-up reader therefore asks again, after the last record it read, next time.
            reader.iterator = None
        if records:
            assert self._stream_arn is not None
            if not reader.buffer:
                reader.buffered_since = self._clock()
            reader.buffer += [lambda_stream_record(record, self._stream_arn) for record in records]
            reader.last_read_sequence = _sequence(records[-1])
        return len(records)

    def _deliver(self, reader: _ShardReader) -> None:
        length = (
            reader.pinned_batch_lengths[0]
            if reader.pinned_batch_lengths
            else min(self._batch_size, len(reader.buffer))
        )
        batch = reader.buffer[:length]
        sequences = [_sequence(record) for record in batch]
        outcome = invoke_batch(
            self._function,
            {"Records": batch},
            sequences,
            report_batch_item_failures=self._report_batch_item_failures,
        )
        if outcome.succeeded:
            reader.checkpoint(length)
            reader.forget_failures()
            if reader.pinned_batch_lengths:
                reader.pinned_batch_lengths.popleft()
            reader.retry_due_at = 0.0
            return
        if outcome.whole_batch_failed and self._bisect and length > 1:
            half = length // 2
            if reader.pinned_batch_lengths:
                reader.pinned_batch_lengths.popleft()
            reader.pinned_batch_lengths.extendleft([length - half, half])
            log.info(
                "batch failed, bisecting",
                extra={"function_name": self._function.function_name, "batch_size": length},
            )
            return
        if outcome.whole_batch_failed:
            failed_from = 0
            if not reader.pinned_batch_lengths:
                reader.pinned_batch_lengths.append(length)
        else:
            # Lambda checkpoints just before the lowest failed sequence number; the records
            # before it are done, everything from it on is delivered again.
            failed_from = min(
                index
                for index, sequence in enumerate(sequences)
                if sequence in outcome.failed_identifiers
            )
            reader.checkpoint(failed_from)
            reader.pinned_batch_lengths.clear()
        failed_attempts = reader.count_failure(sequences[failed_from])
        if self._retry_policy.exhausted(failed_attempts):
            self._give_up(reader, batch[failed_from:], outcome, failed_attempts)
            return
        delay = self._retry_policy.delay_before_retry(failed_attempts)
        reader.retry_due_at = self._clock() + delay
        log.info(
            "batch failed, will retry",
            extra={
                "function_name": self._function.function_name,
                "shard_id": reader.shard_id,
                "from_sequence_number": sequences[failed_from],
                "failed_attempts": failed_attempts,
                "retry_in_seconds": delay,
                "reason": outcome.describe(),
            },
        )

    def _give_up(
        self,
        reader: _ShardReader,
        records: list[dict[str, Any]],
        outcome: BatchOutcome,
        failed_attempts: int,
    ) -> None:
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        self._on_failure.send(
            DeadLetter(
                function_name=self._function.function_name,
                event_source=self.event_source,
                condition="RetryAttemptsExhausted",
                error=outcome.describe(),
                invocation_record={
                    "requestContext": request_context(
                        "RetryAttemptsExhausted", self._function.function_arn, failed_attempts
                    ),
                    "responseContext": response_context(outcome.error),
                    "version": "1.0",
                    "timestamp": utc_timestamp(),
                    "DDBStreamBatchInfo": {
                        "shardId": reader.shard_id,
                        "startSequenceNumber": first["SequenceNumber"],
                        "endSequenceNumber": last["SequenceNumber"],
                        "approximateArrivalOfFirstRecord": _iso(first),
                        "approximateArrivalOfLastRecord": _iso(last),
                        "batchSize": len(records),
                        "streamArn": self._stream_arn,
                    },
                },
                records=records,
            )
        )
        reader.checkpoint(len(records))
        reader.forget_failures()
        if reader.pinned_batch_lengths:
            reader.pinned_batch_lengths.popleft()
        reader.retry_due_at = 0.0


def _iso(stream_record: dict[str, Any]) -> str:
    created = stream_record.get("ApproximateCreationDateTime") or 0
    return datetime.fromtimestamp(created, UTC).isoformat().replace("+00:00", "Z")
