"""Make the stack's resources exist, idempotently, in AWS or in the embedded AWS.

Running it twice changes nothing the second time; it creates what is missing and turns on
streams, TTL and indexes a table lacks, and never deletes data. It prints (or returns) the
environment variables the app reads.

    python -m infrastructure.provision --stage dev [--endpoint-url http://127.0.0.1:5000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infrastructure.resources import (
    STACK,
    Bucket,
    Index,
    Queue,
    Stack,
    Table,
    UserPool,
    bucket_name,
    resource_name,
)

Outputs = dict[str, str]


class Provisioner:
    """Creates or updates one stage's resources.

    Parameters
    ----------
    stage:
        The stage name; every resource is called ``shutter-<stage>-<family>``.
    session:
        A boto3 session; its configuration (region, ``AWS_ENDPOINT_URL``) says where.
    """

    def __init__(self, stage: str, session: boto3.session.Session | None = None) -> None:
        self.stage = stage
        self._session = session or boto3.session.Session()
        self._dynamodb = self._session.client("dynamodb")
        self._cognito = self._session.client("cognito-idp")
        self._s3 = self._session.client("s3")

    def provision(self, stack: Stack = STACK) -> Outputs:
        outputs: Outputs = {"STAGE": self.stage}
        for table in stack.tables:
            outputs.update(self.ensure_table(table))
        outputs.update(self.ensure_user_pool(stack.user_pool))
        for bucket in stack.buckets:
            outputs.update(self.ensure_bucket(bucket))
        for queue in stack.queues:
            outputs.update(self.ensure_queue(queue))
        return outputs

    # SQS ------------------------------------------------------------------------------

    def ensure_queue(self, spec: Queue) -> Outputs:
        """The queue and its dead-letter queue, where messages go after repeated failures."""
        sqs = self._session.client("sqs")
        name = resource_name(self.stage, spec.family)
        dead_letters_url = sqs.create_queue(
            QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)}
        )["QueueUrl"]
        dead_letters_arn = sqs.get_queue_attributes(
            QueueUrl=dead_letters_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        attributes = {
            "VisibilityTimeout": str(spec.visibility_timeout_seconds),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dead_letters_arn, "maxReceiveCount": str(spec.max_receives)}
            ),
        }
        # CreateQueue is idempotent only when the attributes match, so set them separately.
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        return {spec.env_var: name, f"{spec.env_var}_URL": url}

    # S3 -------------------------------------------------------------------------------

    def ensure_bucket(self, spec: Bucket) -> Outputs:
        """A private, encrypted bucket; CORS for browser uploads; lifecycle expiry."""
        account = self._session.client("sts").get_caller_identity()["Account"]
        region = self._s3.meta.region_name
        name = bucket_name(self.stage, spec.family, account, region)
        try:
            self._s3.head_bucket(Bucket=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
                raise
            create: dict[str, Any] = {"Bucket": name}
            if region != "us-east-1":
                create["CreateBucketConfiguration"] = {"LocationConstraint": region}
            self._s3.create_bucket(**create)
        self._s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        self._s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        self._s3.put_bucket_cors(
            Bucket=name,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedMethods": list(spec.cors_methods),
                        "AllowedOrigins": ["*"],
                        "AllowedHeaders": ["*"],
                        "MaxAgeSeconds": 3600,
                    }
                ]
            },
        )
        if spec.expire_after_days:
            self._s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": f"expire-{prefix.strip('/')}",
                            "Filter": {"Prefix": prefix},
                            "Status": "Enabled",
                            "Expiration": {"Days": days},
                        }
                        for prefix, days in spec.expire_after_days
                    ]
                },
            )
        return {spec.env_var: name}

    # DynamoDB -------------------------------------------------------------------------

    def ensure_table(self, table: Table) -> Outputs:
        name = resource_name(self.stage, table.family)
        try:
            description = self._dynamodb.describe_table(TableName=name)["Table"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self._dynamodb.create_table(**_create_table_request(name, table))
            self._dynamodb.get_waiter("table_exists").wait(TableName=name)
            description = self._dynamodb.describe_table(TableName=name)["Table"]
        else:
            description = self._reconcile(name, table, description)
        self._ensure_ttl(name, table)
        outputs = {table.env_var: name}
        if table.stream:
            outputs[table.stream_env_var] = description["LatestStreamArn"]
        return outputs

    def _reconcile(self, name: str, table: Table, description: dict[str, Any]) -> dict[str, Any]:
        stream = description.get("StreamSpecification") or {}
        if table.stream and not stream.get("StreamEnabled"):
            self._dynamodb.update_table(
                TableName=name,
                StreamSpecification={"StreamEnabled": True, "StreamViewType": table.stream},
            )
        existing = {index["IndexName"] for index in description.get("GlobalSecondaryIndexes", [])}
        for index in table.indexes:
            if index.local or index.name in existing:
                continue  # local indexes can only be made with the table
            self._dynamodb.update_table(
                TableName=name,
                AttributeDefinitions=_attribute_definitions(table),
                GlobalSecondaryIndexUpdates=[{"Create": _index_request(index)}],
            )
        return self._dynamodb.describe_table(TableName=name)["Table"]

    def _ensure_ttl(self, name: str, table: Table) -> None:
        if not table.ttl_attribute:
            return
        current = self._dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return
        self._dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )

    # Cognito --------------------------------------------------------------------------

    def ensure_user_pool(self, spec: UserPool) -> Outputs:
        name = resource_name(self.stage, spec.family)
        pool_id = (
            self._find_user_pool(name)
            or self._cognito.create_user_pool(
                PoolName=name,
                Policies={
                    "PasswordPolicy": {
                        "MinimumLength": spec.password_min_length,
                        "RequireUppercase": False,
                        "RequireLowercase": False,
                        "RequireNumbers": False,
                        "RequireSymbols": False,
                    }
                },
                AutoVerifiedAttributes=list(spec.auto_verified_attributes),
                UsernameConfiguration={"CaseSensitive": False},
                Schema=[
                    {
                        "Name": "email",
                        "AttributeDataType": "String",
                        "Required": True,
                        "Mutable": True,
                    }
                ],
            )["UserPool"]["Id"]
        )
        client_name = f"{name}-api"
        client_id = (
            self._find_user_pool_client(pool_id, client_name)
            or (
                self._cognito.create_user_pool_client(
                    UserPoolId=pool_id,
                    ClientName=client_name,
                    GenerateSecret=False,
                    ExplicitAuthFlows=list(spec.client_auth_flows),
                    AccessTokenValidity=spec.access_token_minutes,
                    RefreshTokenValidity=spec.refresh_token_days,
                    TokenValidityUnits={"AccessToken": "minutes", "RefreshToken": "days"},
                    PreventUserExistenceErrors="ENABLED",
                )["UserPoolClient"]["ClientId"]
            )
        )
        return {"USER_POOL_ID": pool_id, "USER_POOL_CLIENT_ID": client_id}

    def _find_user_pool(self, name: str) -> str | None:
        for page in self._cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
            for pool in page["UserPools"]:
                if pool["Name"] == name:
                    return pool["Id"]
        return None

    def _find_user_pool_client(self, pool_id: str, name: str) -> str | None:
        paginator = self._cognito.get_paginator("list_user_pool_clients")
        for page in paginator.paginate(UserPoolId=pool_id, MaxResults=60):
            for client in page["UserPoolClients"]:
                if client["ClientName"] == name:
                    return client["ClientId"]
        return None


def _attribute_definitions(table: Table) -> list[dict[str, str]]:
    attributes = {table.hash_key}
    if table.range_key:
        attributes.add(table.range_key)
    for index in table.indexes:
        attributes.add(index.hash_key)
        if index.range_key:
            attributes.add(index.range_key)
    return [
        {"AttributeName": a.name, "AttributeType": a.type}
        for a in sorted(attributes, key=lambda a: a.name)
    ]


def _key_schema(hash_key: Any, range_key: Any) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key.name, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key.name, "KeyType": "RANGE"})
    return schema


def _index_request(index: Index) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index.projection}
    if index.included:
        projection["NonKeyAttributes"] = list(index.included)
    return {
        "IndexName": index.name,
        "KeySchema": _key_schema(index.hash_key, index.range_key),
        "Projection": projection,
    }


def _create_table_request(name: str, table: Table) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": _attribute_definitions(table),
        "KeySchema": _key_schema(table.hash_key, table.range_key),
        "SSESpecification": {"Enabled": True},
    }
    global_indexes = [_index_request(i) for i in table.indexes if not i.local]
    local_indexes = [_index_request(i) for i in table.indexes if i.local]
    if global_indexes:
        request["GlobalSecondaryIndexes"] = global_indexes
    if local_indexes:
        request["LocalSecondaryIndexes"] = local_indexes
    if table.stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return request


def provision(stage: str, session: boto3.session.Session | None = None) -> Outputs:
    return Provisioner(stage, session).provision()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--endpoint-url", help="an embedded AWS to provision into")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    json.dump(provision(args.stage, session), sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
