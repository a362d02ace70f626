"""What a stream record says beyond its images, read the same way by every consumer (in
``core``: the features' consumers read it, and ``streams/`` imports them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )

# How DynamoDB signs the deletions its TTL makes (other REMOVEs carry no userIdentity).
TTL_PRINCIPAL = "dynamodb.amazonaws.com"


def removed_by_ttl(record: DynamoDBRecord) -> bool:
    """A REMOVE that DynamoDB's TTL made, rather than a request of ours."""
    identity = record.raw_event.get("userIdentity") or {}
    return identity.get("type") == "Service" and identity.get("principalId") == TTL_PRINCIPAL
