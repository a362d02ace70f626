"""The real ``chalice deploy``, through ``make deploy``'s code, against the embedded AWS.

We cannot reach AWS from CI, so the deploy runs against moto's server (``AWS_ENDPOINT_URL``),
with only the gaps in ``infrastructure/moto_deploy_patches.py`` filled. The project is a
temporary copy of this checkout, so its ``chalice.json`` and ``.chalice/deployed`` are not
touched; built dependencies and layers are cached in ``.deploy/cache`` between runs.

The tests run in order and share one deployment: deploy, what exists afterwards, a second
deploy that updates in place, and the destroy that removes it all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from infrastructure.deploy import (
    LAYERS,
    RUNTIME,
    STREAM_MAX_RETRIES,
    UPLOAD_MAX_RETRIES,
    Deployment,
    Project,
    deploy,
    destroy,
)
from infrastructure.deploy_resources import FAILURE_QUEUES, cursor_secret_parameter
from infrastructure.gateway_responses import GATEWAY_RESPONSES, NO_ROUTE
from infrastructure.iam import StageTargets, function_names, lambda_function_name, render_policy
from infrastructure.moto_deploy_patches import deploy_patches
from infrastructure.resources import OPENSEARCH_DOMAIN, STACK, resource_name
from local.embedded_aws import EmbeddedAws

pytestmark = pytest.mark.deploy

REPO = Path(__file__).resolve().parents[2]
STAGE = "ci"
WEB_APP = "https://app.example.com"  # the one origin the stage lets call it from a browser
STREAM_TABLES = [table.family for table in STACK.tables if table.stream]
# Where Lambda finds the functions whose handler is not app.<function name>.
HANDLERS = {
    "api_handler": "app.app",
    "websocket_connect": "app.connect",
    "websocket_message": "app.message",
    "websocket_disconnect": "app.disconnect",
}


@dataclass
class DeployedStage:
    aws: EmbeddedAws
    project: Project
    first: Deployment
    seconds: dict[str, float] = field(default_factory=dict)
    second: Deployment | None = None

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.aws.endpoint_url, region_name="us-east-1")

    @property
    def config(self) -> dict[str, Any]:
        return self.project.load_config()

    def setting(self, function: str, key: str) -> Any:
        """A per-function setting as chalice.json resolves it (the stage's, else the top's)."""
        config = self.config
        stage = config["stages"][STAGE]
        for layer in (
            stage.get("lambda_functions", {}).get(function, {}),
            stage,
            config["lambda_functions"].get(function, {}),
            config,
        ):
            if layer.get(key) is not None:
                return layer[key]
        return None


def copy_project(destination: Path) -> Project:
    """What a checkout holds that the deploy reads: the functions, their config, the pins."""
    shutil.copytree(
        REPO / "functions",
        destination / "functions",
        ignore=shutil.ignore_patterns("__pycache__", "deployed", "deployments"),
        symlinks=True,
    )
    for name in ("chalice.json", "requirements.txt"):
        shutil.copy2(REPO / name, destination / name)
    return Project(root=destination, cache_dir=REPO / ".deploy" / "cache")


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeployedStage]:
    saved = dict(os.environ)
    with deploy_patches(), EmbeddedAws() as aws:
        # The Chalice subprocess and every client here find the embedded AWS this way.
        os.environ.update(aws.client_environment())
        os.environ.pop("AWS_PROFILE", None)
        try:
            project = copy_project(tmp_path_factory.mktemp("checkout"))
            config = project.load_config()
            config["stages"][STAGE] = {"environment_variables": {"CORS_ALLOWED_ORIGINS": WEB_APP}}
            project.save_config(config)
            started = time.monotonic()
            first = deploy(STAGE, project=project, opensearch=True, log=lambda line: None)
            deployed = DeployedStage(aws, project, first)
            deployed.seconds["deploy"] = time.monotonic() - started
            yield deployed
        finally:
            os.environ.clear()
            os.environ.update(saved)


def function_config(stage: DeployedStage, function: str) -> dict[str, Any]:
    return stage.client("lambda").get_function_configuration(
        FunctionName=lambda_function_name(STAGE, function)
    )


def mappings_of(stage: DeployedStage, function: str) -> list[dict[str, Any]]:
    # By ARN: the name alone AWS would take as well, but moto matches only what was given.
    arn = function_config(stage, function)["FunctionArn"]
    return stage.client("lambda").list_event_source_mappings(FunctionName=arn)[
        "EventSourceMappings"
    ]


def queue_arn(stage: DeployedStage, family: str) -> str:
    sqs = stage.client("sqs")
    url = sqs.get_queue_url(QueueName=resource_name(STAGE, family))["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def app_routes(stage: DeployedStage) -> dict[str, list[str]]:
    """The app's own routes, read by importing it as Lambda does, in the staged project."""
    environment = {
        **os.environ,
        **stage.config["stages"][STAGE]["environment_variables"],
        "CURSOR_SECRET": "x" * 32,
    }
    script = (
        "import app, json; print(json.dumps({p: sorted(m) for p, m in app.app.routes.items()}))"
    )
    result = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", script],
        cwd=stage.project.staging_dir(STAGE),
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


# --- what the first deploy made --------------------------------------------------------------


def test_every_function_runs_python312_with_its_memory_timeout_and_handler(stage) -> None:  # type: ignore[no-untyped-def]
    assert sorted(stage.config["lambda_functions"]) == function_names()
    for function in function_names():
        config = function_config(stage, function)
        assert config["Runtime"] == RUNTIME, function
        assert config["MemorySize"] == stage.setting(function, "lambda_memory_size"), function
        assert config["Timeout"] == stage.setting(function, "lambda_timeout"), function
        # Lambda enters every function through app.py (aws/chalice#1566).
        assert config["Handler"] == HANDLERS.get(function, f"app.{function}"), function
    assert function_config(stage, "process_upload")["MemorySize"] == 1769
    assert function_config(stage, "api_handler")["Timeout"] <= 29  # API Gateway's limit


def test_layers_go_only_to_the_functions_that_use_them(stage) -> None:  # type: ignore[no-untyped-def]
    for function in function_names():
        layers = function_config(stage, function).get("Layers", [])
        names = sorted(layer["Arn"].split(":layer:")[1].split(":")[0] for layer in layers)
        expected = sorted(
            resource_name(STAGE, n) for n, users in LAYERS.items() if function in users
        )
        assert names == expected, function
    (media,) = function_config(stage, "process_upload")["Layers"]
    assert ":layer:shutter-ci-media:" in media["Arn"]


def test_functions_know_the_stage_and_the_secret_stays_out_of_chalice_json(stage) -> None:  # type: ignore[no-untyped-def]
    secret = stage.client("ssm").get_parameter(
        Name=cursor_secret_parameter(STAGE), WithDecryption=True
    )["Parameter"]["Value"]
    websocket_api_id = stage.first.value("websocket_api", "websocket_api_id")
    for function in function_names():
        environment = function_config(stage, function)["Environment"]["Variables"]
        assert environment["USERS_TABLE"] == resource_name(STAGE, "users")
        assert environment["POSTS_STREAM_ARN"] == stage.first.environment["POSTS_STREAM_ARN"]
        assert environment["WEBSOCKET_API_ID"] == websocket_api_id
        assert environment["WEBSOCKET_STAGE"] == "api"
        assert environment["CURSOR_SECRET"] == secret
    assert secret not in stage.project.chalice_json.read_text()
    staged_config = stage.project.staging_dir(STAGE) / ".chalice" / "config.json"
    assert secret not in staged_config.read_text()


def test_the_optional_opensearch_domain_is_made_as_described_and_used(stage) -> None:  # type: ignore[no-untyped-def]
    domain = stage.client("opensearch").describe_domain(
        DomainName=resource_name(STAGE, OPENSEARCH_DOMAIN.family)
    )["DomainStatus"]
    assert domain["EngineVersion"] == OPENSEARCH_DOMAIN.engine_version
    assert domain["ClusterConfig"]["InstanceType"] == OPENSEARCH_DOMAIN.instance_type
    assert domain["ClusterConfig"]["InstanceCount"] == OPENSEARCH_DOMAIN.instance_count
    assert domain["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert domain["EncryptionAtRestOptions"]["Enabled"] is True
    for function in function_names():
        environment = function_config(stage, function)["Environment"]["Variables"]
        assert environment["OPENSEARCH_ENDPOINT"] == f"https://{domain['Endpoint']}"


def test_reserved_concurrency_bounds_the_writers(stage) -> None:  # type: ignore[no-untyped-def]
    lam = stage.client("lambda")
    for function in ("fanout_worker", "sweep_stories", "sweep_unconfirmed_signups"):
        reserved = lam.get_function_concurrency(FunctionName=lambda_function_name(STAGE, function))
        assert reserved["ReservedConcurrentExecutions"] == stage.setting(
            function, "reserved_concurrency"
        )


def test_the_rest_api_serves_every_route_through_the_rest_function(stage) -> None:  # type: ignore[no-untyped-def]
    apigateway = stage.client("apigateway")
    api_id = stage.first.value("rest_api", "rest_api_id")
    resources = apigateway.get_resources(restApiId=api_id, limit=500)["items"]
    deployed = {r["path"]: sorted(r.get("resourceMethods", {})) for r in resources}
    routes = app_routes(stage)
    assert len(routes) > 30
    rest_function = function_config(stage, "api_handler")["FunctionArn"]
    for path, methods in routes.items():
        assert set(methods) <= set(deployed.get(path, [])), path
        resource_id = next(r["id"] for r in resources if r["path"] == path)
        for method in methods:
            integration = apigateway.get_integration(
                restApiId=api_id, resourceId=resource_id, httpMethod=method
            )
            assert integration["type"].upper() == "AWS_PROXY"  # Swagger spells it aws_proxy
            assert rest_function in integration["uri"], (path, method)
    assert apigateway.get_stage(restApiId=api_id, stageName="api")


def route_resources(stage: DeployedStage) -> dict[str, dict[str, Any]]:
    api_id = stage.first.value("rest_api", "rest_api_id")
    resources = stage.client("apigateway").get_resources(restApiId=api_id, limit=500)["items"]
    return {r["path"]: r for r in resources}


def assert_every_route_takes_any_method_through_the_rest_function(stage: DeployedStage) -> None:
    apigateway = stage.client("apigateway")
    api_id = stage.first.value("rest_api", "rest_api_id")
    rest_function = function_config(stage, "api_handler")["FunctionArn"]
    routes = app_routes(stage)
    for path, resource in route_resources(stage).items():
        methods = set(resource.get("resourceMethods", {}))
        if path not in routes:  # "/" and the parents of routes: API Gateway's 404
            assert "ANY" not in methods, path
            continue
        assert methods == {*routes[path], "ANY"}, path
        integration, chalices = (
            apigateway.get_integration(restApiId=api_id, resourceId=resource["id"], httpMethod=m)
            for m in ("ANY", routes[path][0])
        )
        assert integration["type"] == "AWS_PROXY"
        assert integration["httpMethod"] == "POST"
        assert rest_function in integration["uri"], path
        for setting in ("uri", "passthroughBehavior", "contentHandling"):
            assert integration.get(setting) == chalices.get(setting), (path, setting)


def assert_the_gateways_own_answers_are_in_the_apps_error_shape(stage: DeployedStage) -> None:
    apigateway = stage.client("apigateway")
    api_id = stage.first.value("rest_api", "rest_api_id")
    cors = {
        "gatewayresponse.header.Access-Control-Allow-Origin": f"'{WEB_APP}'",
        "gatewayresponse.header.Access-Control-Expose-Headers": "'Retry-After'",
    }
    for expected in GATEWAY_RESPONSES:
        response = apigateway.get_gateway_response(
            restApiId=api_id, responseType=expected.response_type
        )
        assert response.get("statusCode") == (expected.status and str(expected.status))
        template = response["responseTemplates"]["application/json"]
        assert template == expected.template()
        assert template.startswith('{"Code":"')
        headers = {f"gatewayresponse.header.{k}": f"'{v}'" for k, v in expected.headers.items()}
        assert response["responseParameters"] == {**headers, **cors}
    no_route = apigateway.get_gateway_response(
        restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN"
    )
    assert no_route["statusCode"] == "404"
    assert json.loads(no_route["responseTemplates"]["application/json"]) == {
        "Code": "NotFoundError",
        "Message": NO_ROUTE.message,
    }  # fixed text: API Gateway's own message for it repeats the Authorization header
    throttled = apigateway.get_gateway_response(restApiId=api_id, responseType="THROTTLED")
    assert throttled["statusCode"] == "429"
    assert throttled["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


def assert_the_stage_serves_the_latest_deployment(stage: DeployedStage) -> None:
    apigateway = stage.client("apigateway")
    api_id = stage.first.value("rest_api", "rest_api_id")
    deployments = apigateway.get_deployments(restApiId=api_id)["items"]
    latest = max(deployments, key=lambda d: d["createdDate"])
    assert "ANY" in latest["description"]  # ours, made after Chalice's
    assert apigateway.get_stage(restApiId=api_id, stageName="api")["deploymentId"] == latest["id"]


def test_every_route_takes_any_method_so_the_app_answers_405_and_preflights(stage) -> None:  # type: ignore[no-untyped-def]
    assert_every_route_takes_any_method_through_the_rest_function(stage)
    # Chalice's permission for API Gateway covers ANY too: every stage, method and path.
    rest_function = function_config(stage, "api_handler")["FunctionArn"]
    policy = json.loads(stage.client("lambda").get_policy(FunctionName=rest_function)["Policy"])
    api_id = stage.first.value("rest_api", "rest_api_id")
    source_arns = [
        s["Condition"]["ArnLike"]["AWS:SourceArn"]
        for s in policy["Statement"]
        if s["Principal"] == {"Service": "apigateway.amazonaws.com"}
    ]
    assert source_arns == [f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/*"]


def test_api_gateways_own_answers_are_in_the_apps_error_shape(stage) -> None:  # type: ignore[no-untyped-def]
    assert_the_gateways_own_answers_are_in_the_apps_error_shape(stage)
    assert_the_stage_serves_the_latest_deployment(stage)


def test_the_rest_stage_is_throttled_as_chalice_json_says(stage) -> None:  # type: ignore[no-untyped-def]
    api_id = stage.first.value("rest_api", "rest_api_id")
    settings = stage.client("apigateway").get_stage(restApiId=api_id, stageName="api")
    every_method = settings["methodSettings"]["*/*"]
    assert (every_method["throttlingRateLimit"], every_method["throttlingBurstLimit"]) == (
        500,
        1000,
    )


def test_the_websocket_api_routes_connect_default_and_disconnect(stage) -> None:  # type: ignore[no-untyped-def]
    apigatewayv2 = stage.client("apigatewayv2")
    api_id = stage.first.value("websocket_api", "websocket_api_id")
    assert apigatewayv2.get_api(ApiId=api_id)["ProtocolType"] == "WEBSOCKET"
    integrations = {
        i["IntegrationId"]: i["IntegrationUri"]
        for i in apigatewayv2.get_integrations(ApiId=api_id)["Items"]
    }
    routes = {r["RouteKey"]: r["Target"] for r in apigatewayv2.get_routes(ApiId=api_id)["Items"]}
    assert sorted(routes) == ["$connect", "$default", "$disconnect"]
    for route_key, function in (
        ("$connect", "websocket_connect"),
        ("$default", "websocket_message"),
        ("$disconnect", "websocket_disconnect"),
    ):
        uri = integrations[routes[route_key].removeprefix("integrations/")]
        assert function_config(stage, function)["FunctionArn"] in uri, route_key
    assert [s["StageName"] for s in apigatewayv2.get_stages(ApiId=api_id)["Items"]] == ["api"]


def test_every_stream_mapping_bisects_retries_boundedly_and_records_failures(stage) -> None:  # type: ignore[no-untyped-def]
    dynamodb = stage.client("dynamodb")
    failures = queue_arn(stage, "stream-failures")
    for family in STREAM_TABLES:
        function = f"{family}_stream"
        (mapping,) = mappings_of(stage, function)
        table = dynamodb.describe_table(TableName=resource_name(STAGE, family))["Table"]
        assert mapping["EventSourceArn"] == table["LatestStreamArn"]
        assert mapping["BatchSize"] == 100
        assert mapping["StartingPosition"] == "TRIM_HORIZON"
        assert mapping["MaximumBatchingWindowInSeconds"] == 1
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["MaximumRetryAttempts"] == STREAM_MAX_RETRIES
        assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": failures}}


def test_the_fanout_queue_mapping_reports_failures_and_stays_under_reserved_concurrency(
    stage,
) -> None:  # type: ignore[no-untyped-def]
    (mapping,) = mappings_of(stage, "fanout_worker")
    assert mapping["EventSourceArn"] == queue_arn(stage, "fanout")
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 10}


def test_only_uploads_trigger_the_resize_function_whose_failures_are_recorded(stage) -> None:  # type: ignore[no-untyped-def]
    bucket = stage.first.environment["MEDIA_BUCKET"]
    notification = stage.client("s3").get_bucket_notification_configuration(Bucket=bucket)
    (config,) = notification["LambdaFunctionConfigurations"]
    assert config["LambdaFunctionArn"] == function_config(stage, "process_upload")["FunctionArn"]
    assert config["Events"] == ["s3:ObjectCreated:*"]
    rules = [(r["Name"].lower(), r["Value"]) for r in config["Filter"]["Key"]["FilterRules"]]
    assert rules == [("prefix", "uploads/")]
    assert not notification.get("QueueConfigurations") and not notification.get(
        "TopicConfigurations"
    )
    invoke_config = stage.client("lambda").get_function_event_invoke_config(
        FunctionName=lambda_function_name(STAGE, "process_upload")
    )
    assert invoke_config["MaximumRetryAttempts"] == UPLOAD_MAX_RETRIES
    assert invoke_config["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn(
        stage, "upload-failures"
    )


def test_the_sweeper_runs_every_minute(stage) -> None:  # type: ignore[no-untyped-def]
    events = stage.client("events")
    rule = events.describe_rule(Name=f"{resource_name(STAGE, 'sweep_stories')}-event")
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == function_config(stage, "sweep_stories")["FunctionArn"]


def test_the_clean_up_of_unconfirmed_signups_runs_every_hour(stage) -> None:  # type: ignore[no-untyped-def]
    events = stage.client("events")
    rule = events.describe_rule(Name=f"{resource_name(STAGE, 'sweep_unconfirmed_signups')}-event")
    assert rule["ScheduleExpression"] == "rate(1 hour)"
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == function_config(stage, "sweep_unconfirmed_signups")["FunctionArn"]


def test_each_function_has_its_own_role_with_only_its_hand_written_policy(stage) -> None:  # type: ignore[no-untyped-def]
    iam = stage.client("iam")
    environment = stage.first.environment
    targets = StageTargets(
        stage=STAGE,
        region="us-east-1",
        account="123456789012",
        media_bucket=environment["MEDIA_BUCKET"],
        user_pool_id=environment["USER_POOL_ID"],
        websocket_api_id=environment["WEBSOCKET_API_ID"],
    )
    roles = set()
    for function in function_names():
        role_name = function_config(stage, function)["Role"].rsplit("/", 1)[1]
        roles.add(role_name)
        assert role_name == resource_name(STAGE, function)
        (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)
        assert document == render_policy(function, targets), function
        assert not iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
        trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert len(roles) == len(function_names())


def test_least_privilege_holds_where_it_is_easy_to_see(stage) -> None:  # type: ignore[no-untyped-def]
    def resources(function: str) -> set[str]:
        document = render_policy(function, StageTargets(STAGE, "r", "a", "bucket", "pool"))
        found = set()
        for statement in document["Statement"]:
            listed = statement["Resource"]
            found |= {listed} if isinstance(listed, str) else set(listed)
        return found

    def tables(function: str) -> set[str]:
        return {r.split(":table/")[1].split("/")[0] for r in resources(function) if ":table/" in r}

    assert tables("websocket_connect") == {resource_name(STAGE, "connections")}
    assert tables("websocket_disconnect") == {resource_name(STAGE, "connections")}
    assert tables("process_upload") == {resource_name(STAGE, "media")}
    # A like's notification shows its actor's avatar, so the stream signs rendition URLs;
    # it reads nothing else in the bucket and writes nothing there.
    s3_statements = [
        (statement["Action"], statement["Resource"])
        for statement in render_policy(
            "likes_stream", StageTargets(STAGE, "r", "a", "bucket", "pool")
        )["Statement"]
        if ":s3:" in str(statement["Resource"])
    ]
    assert s3_statements == [("s3:GetObject", "arn:aws:s3:::bucket/renditions/*")]
    for function in function_names():
        for statement in render_policy(function, StageTargets(STAGE, "r", "a", "b", "p"))[
            "Statement"
        ]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                assert "*" not in action, (function, action)
            if statement["Resource"] == "*":
                assert statement["Action"] == "dynamodb:ListStreams", function


# --- again, then gone ------------------------------------------------------------------------


def test_a_second_deploy_updates_everything_in_place(stage) -> None:  # type: ignore[no-untyped-def]
    lam = stage.client("lambda")
    before = {f: function_config(stage, f)["FunctionArn"] for f in function_names()}
    mappings = {
        m["UUID"]
        for f in function_names()
        for m in lam.list_event_source_mappings(FunctionName=before[f])["EventSourceMappings"]
    }
    started = time.monotonic()
    stage.second = deploy(STAGE, project=stage.project, log=lambda line: None)
    stage.seconds["redeploy"] = time.monotonic() - started

    assert {f: function_config(stage, f)["FunctionArn"] for f in function_names()} == before
    # Deployed without --opensearch: the stage keeps the domain it has.
    assert (
        "OPENSEARCH_ENDPOINT" in function_config(stage, "api_handler")["Environment"]["Variables"]
    )
    assert stage.second.function_arns == stage.first.function_arns
    for kind, key in (("rest_api", "rest_api_id"), ("websocket_api", "websocket_api_id")):
        assert stage.second.value(kind, key) == stage.first.value(kind, key)
    after = {
        m["UUID"]
        for f in function_names()
        for m in lam.list_event_source_mappings(FunctionName=before[f])["EventSourceMappings"]
    }
    assert after == mappings
    for name in LAYERS:  # same zips: no new layer versions
        versions = lam.list_layer_versions(LayerName=resource_name(STAGE, name))["LayerVersions"]
        assert [v["Version"] for v in versions] == [1], name
    rest_apis = stage.client("apigateway").get_rest_apis()["items"]
    assert [api["id"] for api in rest_apis if api["name"] == "shutter"] == [
        stage.first.value("rest_api", "rest_api_id")
    ]
    # Chalice's import overwrote the API's definition; the deploy completed it again.
    assert_every_route_takes_any_method_through_the_rest_function(stage)
    assert_the_gateways_own_answers_are_in_the_apps_error_shape(stage)
    assert_the_stage_serves_the_latest_deployment(stage)
    test_the_rest_stage_is_throttled_as_chalice_json_says(stage)


def test_destroy_removes_it_all(stage) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    destroy(STAGE, project=stage.project, log=lambda line: None)
    stage.seconds["destroy"] = time.monotonic() - started
    prefix = resource_name(STAGE, "")

    lam = stage.client("lambda")
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert not [n for n in names if n == f"shutter-{STAGE}" or n.startswith(prefix)]
    mappings = lam.list_event_source_mappings()["EventSourceMappings"]
    assert not [m for m in mappings if f":function:shutter-{STAGE}" in m["FunctionArn"]]
    assert not [
        layer for layer in lam.list_layers()["Layers"] if layer["LayerName"].startswith(prefix)
    ]
    assert not [
        r for r in stage.client("iam").list_roles()["Roles"] if r["RoleName"].startswith(prefix)
    ]
    rest_api_id = stage.first.value("rest_api", "rest_api_id")
    assert rest_api_id not in [a["id"] for a in stage.client("apigateway").get_rest_apis()["items"]]
    websocket_api_id = stage.first.value("websocket_api", "websocket_api_id")
    assert websocket_api_id not in [
        a["ApiId"] for a in stage.client("apigatewayv2").get_apis()["Items"]
    ]
    rules = stage.client("events").list_rules(NamePrefix=prefix)["Rules"]
    assert not rules
    tables = stage.client("dynamodb").list_tables()["TableNames"]
    assert not [t for t in tables if t.startswith(prefix)]
    assert not [
        p
        for p in stage.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
        if p["Name"].startswith(prefix)
    ]
    buckets = stage.client("s3").list_buckets()["Buckets"]
    assert not [b for b in buckets if b["Name"].startswith(prefix)]
    queues = stage.client("sqs").list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    assert not queues
    parameters = stage.client("ssm").describe_parameters()["Parameters"]
    assert cursor_secret_parameter(STAGE) not in [p["Name"] for p in parameters]
    domains = stage.client("opensearch").list_domain_names()["DomainNames"]
    assert not [d for d in domains if d["DomainName"].startswith(prefix)]
    groups = stage.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/shutter-{STAGE}"
    )
    assert not groups["logGroups"]
    assert STAGE not in stage.config["stages"]
    assert not stage.project.deployed_file(STAGE).exists()
    assert not stage.project.staging_dir(STAGE).exists()
    assert FAILURE_QUEUES  # (each was among the queues above)
    print(f"\ndeploy {stage.seconds['deploy']:.1f} s, redeploy {stage.seconds['redeploy']:.1f} s, "
          f"destroy {stage.seconds['destroy']:.1f} s")  # fmt: skip
