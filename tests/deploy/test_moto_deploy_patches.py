"""Each patch in ``infrastructure/moto_deploy_patches.py`` is still needed, and still works.

Every test makes the call ``chalice deploy`` makes twice, on a fresh embedded AWS: without
the patches moto must still fail it (else a moto upgrade fixed the gap: delete the patch),
and with them it must answer as AWS does.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from infrastructure.moto_deploy_patches import deploy_patches
from local.embedded_aws import EmbeddedAws

pytestmark = pytest.mark.deploy

Call = Callable[[Callable[[str], Any]], Any]


def run(call: Call, patched: bool) -> Any:
    """``call(client)`` on a fresh embedded AWS (moto's backends are shared by the process, so
    every call names its resources afresh)."""
    patches: AbstractContextManager[None] = deploy_patches() if patched else nullcontext()
    with patches, EmbeddedAws() as aws:

        def client(service: str) -> Any:
            return boto3.client(
                service,
                endpoint_url=aws.endpoint_url,
                region_name=aws.region,
                aws_access_key_id="local",
                aws_secret_access_key="local",
                config=Config(retries={"max_attempts": 1}),
            )

        return call(client)


@pytest.fixture
def fails_without_patches() -> Iterator[Callable[[Call], None]]:
    def check(call: Call) -> None:
        with pytest.raises(ClientError):
            run(call, patched=False)

    yield check


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "")
    return buffer.getvalue()


def put_prefix_filter(client: Callable[[str], Any]) -> dict[str, Any]:
    # As chalice's connect_s3_bucket_to_lambda sends it: "Prefix", capitalised.
    s3, lam, bucket = client("s3"), client("lambda"), unique("photos")
    s3.create_bucket(Bucket=bucket)
    role = client("iam").create_role(RoleName=unique("resize"), AssumeRolePolicyDocument="{}")
    function = lam.create_function(
        FunctionName=unique("resize"),
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": empty_zip()},
    )["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": function,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "uploads/"}]}},
                }
            ]
        },
    )
    return s3.get_bucket_notification_configuration(Bucket=bucket)


def test_s3_takes_capitalised_filter_rule_names(fails_without_patches) -> None:  # type: ignore[no-untyped-def]
    fails_without_patches(put_prefix_filter)
    (config,) = run(put_prefix_filter, patched=True)["LambdaFunctionConfigurations"]
    assert config["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "uploads/"}]


SWAGGER: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"version": "1.0", "title": "shutter"},
    "schemes": ["https"],
    "paths": {
        "/health": {
            "get": {
                "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "httpMethod": "POST",
                    "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations",
                    "passthroughBehavior": "when_no_match",
                },
            }
        }
    },
}


def import_swagger(client: Callable[[str], Any]) -> list[dict[str, Any]]:
    # As chalice's import_rest_api sends Chalice's generated Swagger 2.0 document.
    apigateway = client("apigateway")
    document = json.dumps({**SWAGGER, "info": {**SWAGGER["info"], "title": unique("shutter")}})
    api = apigateway.import_rest_api(body=document)
    apigateway.put_rest_api(restApiId=api["id"], mode="overwrite", body=document)
    return apigateway.get_resources(restApiId=api["id"])["items"]


def test_api_gateway_imports_swagger_2(fails_without_patches) -> None:  # type: ignore[no-untyped-def]
    fails_without_patches(import_swagger)
    resources = run(import_swagger, patched=True)
    assert {r["path"]: sorted(r.get("resourceMethods", {})) for r in resources} == {
        "/": [],
        "/health": ["GET"],
    }


def deploy_websocket_api(client: Callable[[str], Any]) -> tuple[dict[str, Any], list[Any]]:
    # As chalice's deploy_websocket_api and create_stage do.
    apigatewayv2 = client("apigatewayv2")
    api_id = apigatewayv2.create_api(
        Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    deployment = apigatewayv2.create_deployment(ApiId=api_id)
    apigatewayv2.create_stage(
        ApiId=api_id, StageName="api", DeploymentId=deployment["DeploymentId"]
    )
    return deployment, apigatewayv2.get_deployments(ApiId=api_id)["Items"]


def test_api_gateway_v2_deploys_websocket_apis(fails_without_patches) -> None:  # type: ignore[no-untyped-def]
    fails_without_patches(deploy_websocket_api)
    deployment, listed = run(deploy_websocket_api, patched=True)
    assert deployment["DeploymentStatus"] == "DEPLOYED"
    assert [d["DeploymentId"] for d in listed] == [deployment["DeploymentId"]]


def test_the_patches_are_gone_after_the_block() -> None:
    for call in (put_prefix_filter, import_swagger, deploy_websocket_api):
        run(call, patched=True)
        with pytest.raises(ClientError):
            run(call, patched=False)
