"""Each moto internal we touch, checked against the installed moto."""

from __future__ import annotations

import boto3

from infrastructure.local_stack.embedded_aws import EmbeddedAws
from infrastructure.local_stack.moto_patches import trim_shard_iterators


def test_shard_iterators_stay_bounded_and_the_newest_keeps_working() -> None:
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    with EmbeddedAws() as aws:
        clients = {"endpoint_url": aws.endpoint_url, "region_name": "us-east-1",
                   "aws_access_key_id": "x", "aws_secret_access_key": "x"}  # fmt: skip
        dynamodb = boto3.client("dynamodb", **clients)
        streams = boto3.client("dynamodbstreams", **clients)
        arn = dynamodb.create_table(
            TableName="iterators",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )["TableDescription"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for _ in range(30):
            iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]

        backend = dynamodbstreams_backends["123456789012"]["us-east-1"]
        assert len(backend.shard_iterators) <= 5_000
        assert trim_shard_iterators(limit=3) > 0
        assert len(backend.shard_iterators) == 3
        dynamodb.put_item(TableName="iterators", Item={"pk": {"S": "after-trim"}})
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["after-trim"]
