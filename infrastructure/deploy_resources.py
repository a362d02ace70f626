"""What a deploy to AWS needs beyond the app's stack (``resources.STACK``), and its teardown.

- **Failure queues**: where Lambda records what it gave up on. Every stream mapping sends the
  batches it could not process (their shard and sequence numbers) to ``stream-failures``; the
  resize function's failed S3 events go to ``upload-failures``. Kept 14 days.
- **The cursor secret** (``CURSOR_SECRET``, which signs list cursors): generated once per stage
  into SSM Parameter Store as a SecureString, never written to ``chalice.json`` or git.
- **Layers**: each ``layers/<name>`` published as ``shutter-<stage>-<name>`` when its zip changed.
- **An OpenSearch domain**, optional (``--opensearch``), as ``resources.OPENSEARCH_DOMAIN``
  describes it; without one, search runs on its DynamoDB tables.
- **Teardown** of all of it and of the stack ``infrastructure.provision`` made.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infrastructure.resources import (
    APP_NAME,
    OPENSEARCH_DOMAIN,
    STACK,
    SearchDomain,
    Stack,
    bucket_name,
    resource_name,
)

FAILURE_QUEUES = ("stream-failures", "upload-failures")
FAILURE_RETENTION_SECONDS = 14 * 24 * 3600

Log = Callable[[str], None]


def cursor_secret_parameter(stage: str) -> str:
    return f"/{APP_NAME}/{stage}/cursor-secret"


class DeployResources:
    """Creates, finds and deletes one stage's deploy-only resources."""

    def __init__(self, stage: str, session: boto3.session.Session, log: Log = print) -> None:
        self.stage = stage
        self._session = session
        self._log = log

    def client(self, service: str) -> Any:
        return self._session.client(service)

    # Failure destinations ---------------------------------------------------------------

    def ensure_failure_queues(self) -> dict[str, str]:
        """Each failure queue's ARN by family; SQS-managed encryption, 14 days' retention."""
        sqs = self.client("sqs")
        arns = {}
        for family in FAILURE_QUEUES:
            url = sqs.create_queue(QueueName=resource_name(self.stage, family))["QueueUrl"]
            sqs.set_queue_attributes(
                QueueUrl=url,
                Attributes={
                    "MessageRetentionPeriod": str(FAILURE_RETENTION_SECONDS),
                    "SqsManagedSseEnabled": "true",
                },
            )
            arns[family] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        return arns

    # The cursor secret --------------------------------------------------------------------

    def ensure_cursor_secret(self) -> str:
        """The stage's cursor secret: made the first time, read back every time after."""
        ssm = self.client("ssm")
        name = cursor_secret_parameter(self.stage)
        try:
            ssm.put_parameter(
                Name=name,
                Value=secrets.token_urlsafe(48),
                Type="SecureString",
                Overwrite=False,
                Description=f"signs list cursors of {APP_NAME} {self.stage}",
            )
            self._log(f"generated the cursor secret in SSM {name}")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ParameterAlreadyExists":
                raise
        return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]

    # Layers -----------------------------------------------------------------------------

    def publish_layer(self, name: str, archive: Path, runtime: str) -> str:
        """The ARN of a layer version holding ``archive``: the latest one if its content is
        the same, else a new one."""
        lam = self.client("lambda")
        layer_name = resource_name(self.stage, name)
        content = archive.read_bytes()
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
        versions = lam.list_layer_versions(LayerName=layer_name).get("LayerVersions", [])
        if versions:
            latest = max(versions, key=lambda v: v["Version"])
            described = lam.get_layer_version(LayerName=layer_name, VersionNumber=latest["Version"])
            if described["Content"].get("CodeSha256") == digest:
                return latest["LayerVersionArn"]
        published = lam.publish_layer_version(
            LayerName=layer_name,
            Description=f"{name} layer of {APP_NAME} {self.stage}",
            Content={"ZipFile": content},
            CompatibleRuntimes=[runtime],
            CompatibleArchitectures=["x86_64"],
        )
        self._log(f"published layer {layer_name} version {published['Version']}")
        return published["LayerVersionArn"]

    # Logs -------------------------------------------------------------------------------

    def ensure_log_retention(self, log_group: str, days: int) -> None:
        logs = self.client("logs")
        try:
            logs.create_log_group(logGroupName=log_group)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
        logs.put_retention_policy(logGroupName=log_group, retentionInDays=days)

    # OpenSearch -------------------------------------------------------------------------

    def ensure_search_domain(
        self, spec: SearchDomain = OPENSEARCH_DOMAIN, wait: bool = True
    ) -> str:
        """The stage's OpenSearch domain as ``resources.OPENSEARCH_DOMAIN`` describes it; returns
        its ``https://`` endpoint. AWS takes 15-30 minutes to make one, so ``wait`` polls."""
        opensearch = self.client("opensearch")
        name = resource_name(self.stage, spec.family)
        try:
            domain = opensearch.describe_domain(DomainName=name)["DomainStatus"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            cluster: dict[str, Any] = {
                "InstanceType": spec.instance_type,
                "InstanceCount": spec.instance_count,
                "ZoneAwarenessEnabled": spec.zone_awareness,
            }
            if spec.zone_awareness:
                cluster["ZoneAwarenessConfig"] = {"AvailabilityZoneCount": 2}
            domain = opensearch.create_domain(
                DomainName=name,
                EngineVersion=spec.engine_version,
                ClusterConfig=cluster,
                EBSOptions={
                    "EBSEnabled": True,
                    "VolumeType": spec.volume_type,
                    "VolumeSize": spec.volume_size_gb,
                },
                EncryptionAtRestOptions={"Enabled": spec.encryption_at_rest},
                NodeToNodeEncryptionOptions={"Enabled": spec.node_to_node_encryption},
                DomainEndpointOptions={"EnforceHTTPS": spec.https_only},
                AccessPolicies=json.dumps(self._search_access_policy(name)),
            )["DomainStatus"]
            self._log(f"creating OpenSearch domain {name}: 15-30 minutes on AWS")
        deadline = time.monotonic() + 60 * 60
        while wait and not domain.get("Endpoint"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"OpenSearch domain {name} has no endpoint after an hour")
            time.sleep(30)
            domain = opensearch.describe_domain(DomainName=name)["DomainStatus"]
        return f"https://{domain['Endpoint']}"

    def _search_access_policy(self, name: str) -> dict[str, Any]:
        # This account's principals only; of those, only roles whose own policy allows
        # es:ESHttp* on the domain (the functions that search or index) get through.
        account = self.client("sts").get_caller_identity()["Account"]
        region = self._session.region_name
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "es:ESHttp*",
                    "Resource": f"arn:aws:es:{region}:{account}:domain/{name}/*",
                }
            ],
        }

    # Teardown ---------------------------------------------------------------------------

    def delete_all(self, stack: Stack = STACK, log_groups: tuple[str, ...] = ()) -> None:
        """Delete everything the stage has beyond Chalice's resources: its data included."""
        steps: list[tuple[str, Callable[[], None]]] = []
        for table in stack.tables:
            steps.append((f"table {table.family}", partial(self._delete_table, table.family)))
        steps.append(("user pool", partial(self._delete_user_pool, stack.user_pool.family)))
        for bucket in stack.buckets:
            steps.append((f"bucket {bucket.family}", partial(self._delete_bucket, bucket.family)))
        queues = [name for q in stack.queues for name in (q.family, f"{q.family}-dlq")]
        for family in (*queues, *FAILURE_QUEUES):
            steps.append((f"queue {family}", partial(self._delete_queue, family)))
        steps.append(("cursor secret", self._delete_cursor_secret))
        steps.append(("layers", self._delete_layers))
        steps.append(("search domain", self._delete_search_domain))
        for group in log_groups:
            steps.append((f"log group {group}", partial(self._delete_log_group, group)))
        for label, step in steps:
            step()
            self._log(f"deleted {label}")

    def _delete_table(self, family: str) -> None:
        dynamodb = self.client("dynamodb")
        name = resource_name(self.stage, family)
        try:
            dynamodb.delete_table(TableName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            return
        dynamodb.get_waiter("table_not_exists").wait(
            TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )

    def _delete_user_pool(self, family: str) -> None:
        cognito = self.client("cognito-idp")
        name = resource_name(self.stage, family)
        for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
            for pool in page["UserPools"]:
                if pool["Name"] == name:
                    cognito.delete_user_pool(UserPoolId=pool["Id"])

    def _delete_bucket(self, family: str) -> None:
        s3 = self.client("s3")
        account = self.client("sts").get_caller_identity()["Account"]
        name = bucket_name(self.stage, family, account, s3.meta.region_name)
        try:
            s3.head_bucket(Bucket=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchBucket", "NotFound"):
                return
            raise
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            doomed = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=name)

    def _delete_queue(self, family: str) -> None:
        sqs = self.client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=resource_name(self.stage, family))["QueueUrl"]
        except ClientError as exc:
            if "NonExistentQueue" in exc.response["Error"]["Code"]:
                return
            raise
        sqs.delete_queue(QueueUrl=url)

    def _delete_cursor_secret(self) -> None:
        try:
            self.client("ssm").delete_parameter(Name=cursor_secret_parameter(self.stage))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ParameterNotFound":
                raise

    def _delete_layers(self) -> None:
        lam = self.client("lambda")
        prefix = resource_name(self.stage, "")
        for page in lam.get_paginator("list_layers").paginate():
            for layer in page["Layers"]:
                if not layer["LayerName"].startswith(prefix):
                    continue
                versions = lam.list_layer_versions(LayerName=layer["LayerName"])
                for version in versions.get("LayerVersions", []):
                    lam.delete_layer_version(
                        LayerName=layer["LayerName"], VersionNumber=version["Version"]
                    )

    def _delete_search_domain(self) -> None:
        try:
            self.client("opensearch").delete_domain(
                DomainName=resource_name(self.stage, OPENSEARCH_DOMAIN.family)
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise

    def _delete_log_group(self, name: str) -> None:
        try:
            self.client("logs").delete_log_group(logGroupName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
