"""DynamoDB Streams delivered to a handler as a Lambda event source mapping delivers them.

Per shard one batch is in flight at a time, in sequence-number order. A handler that raises
gets the same batch again; one that reports batch item failures is checkpointed just before
the lowest failed record, and the next batch starts there. When the retries for a record are
spent, the records from it on are dead-lettered and the shard moves on.
"""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from chalice.app import DynamoDBEventConfig

from local.plumbing import lambda_semantics
from local.plumbing.lambda_semantics import (
    Buffer,
    LambdaFunction,
    Wiring,
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
            dynamodb[image] = {name: _json_value(v) for name, v in stream_record[image].items()}
    for name in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        dynamodb[name] = stream_record[name]
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
    if "userIdentity" in record:  # on TTL deletes: the dynamodb.amazonaws.com service
        shaped["userIdentity"] = record["userIdentity"]
    return shaped


def _json_value(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, content),) = value.items()
    if kind == "B":
        return {"B": _base64(content)}
    if kind == "BS":
        return {"BS": [_base64(item) for item in content]}
    if kind == "M":
        return {"M": {name: _json_value(item) for name, item in content.items()}}
    if kind == "L":
        return {"L": [_json_value(item) for item in content]}
    return {kind: content}


def _base64(content: bytes | str) -> str:
    return content if isinstance(content, str) else base64.b64encode(content).decode("ascii")


def _sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


# Where each mapping checkpointed in each shard, kept across the sources of this process: a
# mapping on AWS keeps its position while it is disabled, so a plumbing started again (each
# test module starts one) resumes there instead of reading the shard from TRIM_HORIZON again,
# which redelivered every record of a test session to every later plumbing.
_checkpoints: dict[tuple[str, str, str], str] = {}


@dataclass
class _Shard:
    """Where the mapping stands in one shard: what it has read and not yet checkpointed."""

    shard_id: str
    starting_position: str
    iterator: str | None = None
    last_read_sequence: str | None = None
    # The next batch is always a prefix of the buffer, so checkpointing drops its front.
    buffer: Buffer = field(default_factory=Buffer)
    # A batch that failed as a whole comes again exactly as it was.
    retry_length: int | None = None
    caught_up: bool = False
    closed: bool = False  # GetRecords gave no next iterator: the shard was read to its end
    failing_sequence: str | None = None
    failed_attempts: int = 0
    retry_due_at: float = 0.0
    # The mapping's key in `_checkpoints`: (function name, stream ARN, shard id).
    mapping_key: tuple[str, str, str] | None = None

    @property
    def finished(self) -> bool:
        return self.closed and not self.buffer.records

    @property
    def drained(self) -> bool:
        return self.finished or (self.caught_up and not self.buffer.records)

    def count_failure(self, sequence: str) -> int:
        """Count one more failed attempt at the batch that starts at `sequence`."""
        if self.failing_sequence != sequence:
            self.failing_sequence, self.failed_attempts = sequence, 0
        self.failed_attempts += 1
        return self.failed_attempts

    def checkpoint(self, record_count: int) -> None:
        """The first `record_count` records are done with; nothing is failing any more."""
        if record_count and self.mapping_key is not None:
            _checkpoints[self.mapping_key] = _sequence(self.buffer.records[record_count - 1])
        self.buffer.drop(record_count)
        self.failing_sequence, self.failed_attempts = None, 0
        self.retry_length, self.retry_due_at = None, 0.0


class DynamoDBStreamSource:
    """An event source mapping from one DynamoDB stream to one handler. One thread visits the
    stream's shards in turn (moto gives a stream one)."""

    def __init__(self, function: LambdaFunction, config: DynamoDBEventConfig, wiring: Wiring):
        self.name = function.handler_name
        self._function = function
        self._config = config
        self._window_seconds = config.maximum_batching_window_in_seconds or 0
        self._wiring = wiring
        self._streams = wiring.clients["dynamodbstreams"]
        self._stream_arn = ""
        self._shards: list[_Shard] = []

    @property
    def drained(self) -> bool:
        return all(shard.drained for shard in self._shards)

    def seconds_until_due(self) -> float | None:
        waiting = [s.retry_due_at for s in self._shards if s.buffer.records and s.retry_due_at]
        waiting += [
            closes
            for s in self._shards
            if (closes := s.buffer.window_closes_at(self._window_seconds)) is not None
        ]
        return max(0.0, min(waiting) - time.monotonic()) if waiting else None

    def prepare(self) -> None:
        """Find the stream through its table (the one the configured ARN names; it exists, as
        the stack and every test provision before the plumbing starts) and fix the starting
        position of its shards, so a LATEST mapping sees whatever is written from now on."""
        # arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
        table_name = self._config.stream_arn.split(":", 5)[-1].split("/")[1]
        dynamodb = self._wiring.clients["dynamodb"]
        self._stream_arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        description = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            added = _Shard(shard["ShardId"], self._config.starting_position)
            added.mapping_key = (self._function.function_name, self._stream_arn, added.shard_id)
            added.last_read_sequence = _checkpoints.get(added.mapping_key)
            added.iterator = self._shard_iterator(added)
            self._shards.append(added)

    def poll(self) -> bool:
        worked = False
        for shard in self._shards:
            if not shard.finished:
                worked = self._poll_shard(shard) or worked
        return worked

    def _shard_iterator(self, shard: _Shard) -> str:
        request: dict[str, Any] = {"StreamArn": self._stream_arn, "ShardId": shard.shard_id}
        if shard.last_read_sequence is not None:
            request["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            request["SequenceNumber"] = shard.last_read_sequence
        else:
            request["ShardIteratorType"] = shard.starting_position
        return str(self._streams.get_shard_iterator(**request)["ShardIterator"])

    def _poll_shard(self, shard: _Shard) -> bool:
        if shard.buffer.records and shard.retry_due_at > time.monotonic():
            return False
        read_count = self._read(shard)
        if not shard.buffer.records:
            return False
        filling = shard.buffer.filling(self._config.batch_size, self._window_seconds)
        if filling and not shard.closed and shard.retry_length is None:
            return read_count > 0
        self._deliver(shard)
        return True

    def _read(self, shard: _Shard) -> int:
        wanted = min(_MAX_RECORDS_PER_READ, self._config.batch_size - len(shard.buffer.records))
        if shard.closed or wanted <= 0:
            return 0
        if shard.iterator is None:
            shard.iterator = self._shard_iterator(shard)
        try:
            response = self._streams.get_records(ShardIterator=shard.iterator, Limit=wanted)
        except ClientError as exc:
            # The next read takes a fresh iterator after the last record read, so a bad
            # iterator can't wedge the shard.
            shard.iterator = None
            if exc.response["Error"]["Code"] not in _ITERATOR_LOST:
                raise
            return 0
        records = response.get("Records", [])
        shard.iterator = response.get("NextShardIterator")
        shard.closed = shard.iterator is None
        shard.caught_up = not records
        if not records and not shard.closed and shard.last_read_sequence is not None:
            # An iterator into a shard moto replaced (a restored table) never sees another
            # record, so a caught-up shard asks again, after the last record it read.
            shard.iterator = None
        if records:
            shard.buffer.add([lambda_stream_record(r, self._stream_arn) for r in records])
            shard.last_read_sequence = _sequence(records[-1])
        return len(records)

    def _deliver(self, shard: _Shard) -> None:
        length = shard.retry_length or min(self._config.batch_size, len(shard.buffer.records))
        batch = shard.buffer.records[:length]
        sequences = [_sequence(record) for record in batch]
        # Through the module, so a test that watches deliveries patches one place for all.
        outcome = lambda_semantics.invoke_batch(self._function, {"Records": batch}, sequences)
        if outcome.succeeded:
            shard.checkpoint(length)
            return
        # Lambda checkpoints just before the lowest failed sequence number; the records
        # before it are done, everything from it on is delivered again.
        failed_from = min(outcome.failed_indexes(sequences))
        shard.buffer.drop(failed_from)
        shard.retry_length = length if outcome.whole_batch_failed else None
        failed_attempts = shard.count_failure(sequences[failed_from])
        retries = self._wiring.batch_retries
        if retries.exhausted(failed_attempts):
            failed = batch[failed_from:]
            self._wiring.dead_letters.send(
                self._function, "aws:dynamodb", outcome.describe(), failed
            )
            shard.checkpoint(length - failed_from)
            return
        delay = retries.delay_before_retry(failed_attempts)
        shard.retry_due_at = time.monotonic() + delay
        log.info(
            "batch failed, will retry",
            extra={"function_name": self._function.function_name, "shard_id": shard.shard_id,
                   "from_sequence_number": sequences[failed_from],
                   "failed_attempts": failed_attempts, "reason": outcome.describe()},
        )  # fmt: skip
