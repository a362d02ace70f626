"""Each moto internal we touch, checked against the installed moto."""

from __future__ import annotations

import boto3
import pytest

from local.embedded_aws import EmbeddedAws
from local.moto_patches import trim_shard_iterators


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


def _client(aws: EmbeddedAws, service: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        service, endpoint_url=aws.endpoint_url, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="x",
    )  # fmt: skip


def _table(dynamodb, name: str, range_key: bool = False) -> None:  # type: ignore[no-untyped-def]
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "S"})
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=keys,
        AttributeDefinitions=attributes,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )  # fmt: skip


def test_a_failed_transaction_is_undone_item_by_item_keeping_the_table_and_its_stream() -> None:
    from moto.dynamodb.models import dynamodb_backends

    with EmbeddedAws() as aws:
        dynamodb = _client(aws, "dynamodb")
        _table(dynamodb, "undo")
        _table(dynamodb, "undo_ranged", range_key=True)
        dynamodb.put_item(TableName="undo", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
        dynamodb.put_item(TableName="undo_ranged", Item={"pk": {"S": "p"}, "sk": {"S": "1"}})
        backend = dynamodb_backends["123456789012"]["us-east-1"]
        table, shard = backend.tables["undo"], backend.tables["undo"].stream_shard
        assert shard is not None  # _table turns the stream on
        records_before = len(shard.items)

        failing = [
            {"Put": {"TableName": "undo", "Item": {"pk": {"S": "b"}}}},
            {"Put": {"TableName": "undo_ranged", "Item": {"pk": {"S": "p"}, "sk": {"S": "2"}}}},
            {"Put": {"TableName": "undo_ranged", "Item": {"pk": {"S": "q"}, "sk": {"S": "1"}}}},
            {
                "Update": {
                    "TableName": "undo",
                    "Key": {"pk": {"S": "a"}},
                    "UpdateExpression": "SET n = :two",
                    "ConditionExpression": "n = :zero",
                    "ExpressionAttributeValues": {":two": {"N": "2"}, ":zero": {"N": "0"}},
                }
            },
        ]
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(TransactItems=failing)

        assert backend.tables["undo"] is table  # not a restored copy
        assert backend.tables["undo"].stream_shard is shard
        assert len(shard.items) == records_before  # no record of the undone writes
        assert "Item" not in dynamodb.get_item(TableName="undo", Key={"pk": {"S": "b"}})
        assert dynamodb.get_item(TableName="undo", Key={"pk": {"S": "a"}})["Item"]["n"] == {
            "N": "1"
        }
        ranged = dynamodb.scan(TableName="undo_ranged")["Items"]
        assert ranged == [{"pk": {"S": "p"}, "sk": {"S": "1"}}]

        # a transaction that succeeds still applies every item and streams each change
        dynamodb.transact_write_items(TransactItems=failing[:3])
        assert dynamodb.scan(TableName="undo_ranged")["Count"] == 3
        assert len(shard.items) == records_before + 1
        assert "__deepcopy__" not in vars(type(table))  # the swap lasts one call only


def test_an_invalid_transaction_is_refused_and_undone() -> None:
    with EmbeddedAws() as aws:
        dynamodb = _client(aws, "dynamodb")
        _table(dynamodb, "twice")
        same_item_twice = [
            {"Put": {"TableName": "twice", "Item": {"pk": {"S": "x"}}}},
            {"Delete": {"TableName": "twice", "Key": {"pk": {"S": "x"}}}},
        ]
        with pytest.raises(dynamodb.exceptions.ClientError):
            dynamodb.transact_write_items(TransactItems=same_item_twice)
        assert dynamodb.scan(TableName="twice")["Count"] == 0
