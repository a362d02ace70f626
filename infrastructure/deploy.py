"""``make deploy STAGE=name``: the whole backend in an AWS account, with ``chalice deploy``.

    python -m infrastructure.deploy deploy --stage prod [--opensearch] [--profile P] [--region R]
    python -m infrastructure.deploy destroy --stage prod [--yes]

``deploy`` is idempotent; run it again (after a ``git checkout`` of another version, say) to
update the stage in place. It:

1. provisions the stack (``infrastructure.provision``: tables with their streams, indexes and
   TTL, the Cognito user pool, the media bucket, the fan-out queue), and what only a deploy
   needs (``infrastructure.deploy_resources``: failure queues, the stage's cursor secret in
   SSM, the published layers, and the OpenSearch domain if asked for or already there);
2. writes their names and ARNs into ``chalice.json``'s stage (environment variables, and each
   function's layers); the cursor secret goes only into the staged copy, never into git;
3. stages the Chalice project (``infrastructure.packaging``) with each function's IAM policy
   (``infrastructure/iam``) rendered for the stage, and runs ``chalice deploy --stage`` there.
   The first deploy of a stage runs it twice: the WebSocket API's id exists only after the
   first run, and the functions that push to connections need it (env var and policy);
4. sets what Chalice does not: every stream mapping reports partial batch failures, bisects
   a failing batch, retries a bounded number of times and then records the batch in the
   ``stream-failures`` queue; the fan-out worker's queue mapping reports partial failures and
   never invokes more workers than its reserved concurrency; the resize function's S3 events
   retry twice and then go to ``upload-failures``; the REST API answers in the app's error
   shape where API Gateway answers itself (gateway responses: a path no route has is 404
   NotFoundError) and sends every method of a route's path to the REST function (an ``ANY``
   method per route, so a wrong method gets the app's 405 and a CORS preflight reaches the
   app), published as a new deployment of the stage, which is then throttled; the REST
   function's log group (Chalice names it after ``api_handler`` rather than the function, so
   ``chalice.json`` turns that one off) gets the same retention as the others.

``destroy`` runs ``chalice delete``, then deletes everything step 1 made, data included.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infrastructure.deploy_resources import DeployResources, Log
from infrastructure.gateway_responses import GATEWAY_RESPONSES, cors_headers
from infrastructure.iam import StageTargets, function_names, lambda_function_name, render_policy
from infrastructure.packaging import (
    StagedProject,
    build_dependencies,
    build_layer_cached,
    function_requirements,
    stage_project,
)
from infrastructure.provision import provision
from infrastructure.resources import APP_NAME, OPENSEARCH_DOMAIN, resource_name
from layers.build import LAYERS_DIR

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNTIME = "python3.12"
# Which functions each layer (layers/<name>) is attached to: each carries only what it calls.
LAYERS: dict[str, tuple[str, ...]] = {
    "media": ("process_upload",),  # Pillow: images are made only there
    "crypto": ("api_handler", "websocket_connect"),  # RSA: only these verify tokens
    "search": ("api_handler", "users_stream", "posts_stream"),  # opensearch-py
}
# A failing stream batch is split and retried this often, then recorded in stream-failures.
STREAM_MAX_RETRIES = 10
# An S3 event the resize function failed on is retried this often (Lambda's maximum), then
# recorded in upload-failures; one older than this is dropped there too.
UPLOAD_MAX_RETRIES = 2
UPLOAD_MAX_EVENT_AGE_SECONDS = 6 * 3600
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
# What the ANY method's integration copies from Chalice's on the same resource.
_PROXY_SETTINGS = ("passthroughBehavior", "contentHandling", "timeoutInMillis")


class DeployError(Exception):
    pass


@dataclass
class Deployment:
    """What a deploy made, as ``.chalice/deployed/<stage>.json`` records it, and its outputs."""

    stage: str
    resources: list[dict[str, Any]]
    environment: dict[str, str] = field(default_factory=dict)
    failure_queues: dict[str, str] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["resource_type"] == resource_type]

    def value(self, resource_type: str, key: str) -> str | None:
        found = self.of_type(resource_type)
        return found[0].get(key) if found else None

    @property
    def function_arns(self) -> dict[str, str]:
        return {r["name"]: r["lambda_arn"] for r in self.of_type("lambda_function")}


@dataclass(frozen=True)
class Project:
    """The checkout a deploy reads from and writes to."""

    root: Path = REPO_ROOT
    cache_dir: Path | None = None

    @property
    def chalice_json(self) -> Path:
        return self.root / "chalice.json"

    @property
    def functions_dir(self) -> Path:
        return self.root / "functions"

    @property
    def cache(self) -> Path:
        return self.cache_dir or self.root / ".deploy" / "cache"

    def staging_dir(self, stage: str) -> Path:
        return self.root / ".deploy" / stage

    def deployed_file(self, stage: str) -> Path:
        return self.functions_dir / ".chalice" / "deployed" / f"{stage}.json"

    def load_config(self) -> dict[str, Any]:
        return json.loads(self.chalice_json.read_text())

    def save_config(self, config: dict[str, Any]) -> None:
        self.chalice_json.write_text(json.dumps(config, indent=2) + "\n")


def deploy(
    stage: str,
    *,
    project: Project | None = None,
    session: boto3.session.Session | None = None,
    opensearch: bool = False,
    log: Log = print,
) -> Deployment:
    """Provision, configure and ``chalice deploy`` one stage; see the module's docstring."""
    _check_stage_name(stage)
    project = project or Project()
    session = session or boto3.session.Session()
    resources = DeployResources(stage, session, log)
    config = project.load_config()
    _check_policies(config)
    _check_layers()

    log(f"provisioning {APP_NAME} {stage} in {session.region_name}")
    outputs = provision(stage, session)
    failure_queues = resources.ensure_failure_queues()
    search_endpoint = (
        resources.ensure_search_domain() if opensearch else _existing_search_endpoint(resources)
    )
    secret = resources.ensure_cursor_secret()
    layers = {
        name: resources.publish_layer(name, build_layer_cached(name, project.cache), RUNTIME)
        for name in LAYERS
    }
    dependencies = build_dependencies(
        function_requirements(
            project.root / "requirements.txt",
            [LAYERS_DIR / name / "requirements.txt" for name in LAYERS],
        ),
        project.cache,
    )
    account = session.client("sts").get_caller_identity()["Account"]

    deployment: Deployment | None = None
    try:
        for _ in range(2):
            stage_config = _write_stage(project, config, stage, outputs, layers, search_endpoint)
            environment = stage_config["environment_variables"]
            targets = StageTargets(
                stage=stage,
                region=session.region_name,
                account=account,
                media_bucket=outputs["MEDIA_BUCKET"],
                user_pool_id=outputs["USER_POOL_ID"],
                websocket_api_id=environment.get("WEBSOCKET_API_ID"),
                websocket_stage=environment.get("WEBSOCKET_STAGE", "api"),
            )
            staged = _stage(project, config, stage, targets, secret, dependencies)
            _run_chalice(staged, "deploy", "--stage", stage)
            deployment = _read_deployment(project, stage)
            websocket_api_id = deployment.value("websocket_api", "websocket_api_id")
            if websocket_api_id == environment.get("WEBSOCKET_API_ID"):
                break
            log(f"the WebSocket API is {websocket_api_id}: deploying again to tell the functions")
            outputs = {
                **outputs,
                "WEBSOCKET_API_ID": str(websocket_api_id),
                "WEBSOCKET_STAGE": _setting(config, stage, "api_gateway_stage") or "api",
            }
    finally:
        _scrub_secret(project.staging_dir(stage))
    if deployment is None:
        raise DeployError("chalice deploy recorded nothing")

    _configure_failure_handling(session, config, stage, deployment, failure_queues, log)
    _complete_rest_api(session, config, stage, deployment, log)
    throttle = _setting(config, stage, "api_gateway_throttle")
    if throttle:
        _throttle_rest_stage(session, config, stage, deployment, throttle, log)
    retention = _setting(config, stage, "log_retention_in_days")
    if retention:
        resources.ensure_log_retention(f"/aws/lambda/{APP_NAME}-{stage}", int(retention))
    deployment.environment = dict(environment)
    deployment.failure_queues = failure_queues
    log(f"REST API: {deployment.value('rest_api', 'rest_api_url')}")
    log(f"WebSocket API: {deployment.value('websocket_api', 'websocket_api_url')}")
    return deployment


def destroy(
    stage: str,
    *,
    project: Project | None = None,
    session: boto3.session.Session | None = None,
    log: Log = print,
) -> None:
    """Delete the stage: Chalice's resources, then the stack and every deploy-only resource."""
    _check_stage_name(stage)
    project = project or Project()
    session = session or boto3.session.Session()
    config = project.load_config()
    if project.deployed_file(stage).is_file():
        # chalice delete builds no package, but it imports the app, whose settings want a
        # cursor secret: any will do, since nothing it deletes runs again.
        targets = StageTargets(stage, session.region_name, "0", "none", "none")
        secret = secrets.token_urlsafe(24)
        staged = _stage(project, config, stage, targets, secret=secret, dependencies=None)
        _run_chalice(staged, "delete", "--stage", stage)
    log_groups = tuple(f"/aws/lambda/{lambda_function_name(stage, f)}" for f in function_names())
    DeployResources(stage, session, log).delete_all(log_groups=log_groups)
    config.get("stages", {}).pop(stage, None)
    project.save_config(config)
    project.deployed_file(stage).unlink(missing_ok=True)
    shutil.rmtree(project.staging_dir(stage), ignore_errors=True)
    log(f"{APP_NAME} {stage} is gone")


# chalice.json -----------------------------------------------------------------------------


def _setting(config: dict[str, Any], stage: str, key: str, function: str | None = None) -> Any:
    """A setting as Chalice resolves it: the stage's entry for the function, the stage, the
    top-level entry for the function, then the top level."""
    stage_config = config.get("stages", {}).get(stage, {})
    layers = [stage_config, config]
    if function is not None:
        layers = [
            stage_config.get("lambda_functions", {}).get(function, {}),
            stage_config,
            config.get("lambda_functions", {}).get(function, {}),
            config,
        ]
    for layer in layers:
        if layer.get(key) is not None:
            return layer[key]
    return None


def _write_stage(
    project: Project,
    config: dict[str, Any],
    stage: str,
    outputs: dict[str, str],
    layers: dict[str, str],
    search_endpoint: str | None,
) -> dict[str, Any]:
    """Put the stage's names and ARNs into chalice.json (nothing secret), and return the stage."""
    stage_config = config.setdefault("stages", {}).setdefault(stage, {})
    environment = dict(stage_config.get("environment_variables", {}))
    environment.update(outputs)
    environment.pop("OPENSEARCH_ENDPOINT", None)
    if search_endpoint:
        environment["OPENSEARCH_ENDPOINT"] = search_endpoint
    # X-Ray costs every cold start the SDK's import; the functions load it only when the stage
    # runs with tracing ("xray": true), and the policies then allow sending traces.
    tracing = bool(_setting(config, stage, "xray"))
    environment["POWERTOOLS_TRACE_DISABLED"] = "false" if tracing else "true"
    stage_config["environment_variables"] = dict(sorted(environment.items()))
    functions = stage_config.setdefault("lambda_functions", {})
    for function in {f for attached in LAYERS.values() for f in attached}:
        functions.setdefault(function, {})["layers"] = [
            arn for name, arn in layers.items() if function in LAYERS[name]
        ]
    project.save_config(config)
    return stage_config


def _check_policies(config: dict[str, Any]) -> None:
    configured = set(config.get("lambda_functions", {}))
    written = set(function_names())
    if configured != written:
        raise DeployError(
            "chalice.json's lambda_functions and infrastructure/iam must name the same functions; "
            f"only in chalice.json: {sorted(configured - written)}, "
            f"only in infrastructure/iam: {sorted(written - configured)}"
        )


def _stage(
    project: Project,
    config: dict[str, Any],
    stage: str,
    targets: StageTargets,
    secret: str | None,
    dependencies: Path | None,
) -> StagedProject:
    staged_config = json.loads(json.dumps(config))
    stage_config = staged_config.setdefault("stages", {}).setdefault(stage, {})
    if secret is not None:
        stage_config.setdefault("environment_variables", {})["CURSOR_SECRET"] = secret
    tracing = bool(_setting(config, stage, "xray"))
    policies = {name: render_policy(name, targets, tracing=tracing) for name in function_names()}
    return stage_project(
        project.functions_dir, project.staging_dir(stage), dependencies, staged_config, policies
    )


def _scrub_secret(staging_dir: Path) -> None:
    """Leave no secret in the staged copy once Chalice has read it."""
    config_file = staging_dir / ".chalice" / "config.json"
    if not config_file.is_file():
        return
    config = json.loads(config_file.read_text())
    for stage_config in config.get("stages", {}).values():
        stage_config.get("environment_variables", {}).pop("CURSOR_SECRET", None)
    config_file.write_text(json.dumps(config, indent=2) + "\n")


# Chalice ----------------------------------------------------------------------------------


def _run_chalice(staged: StagedProject, *arguments: str) -> None:
    # Chalice's own command line, run with this interpreter (the one its package was made for).
    command = [sys.executable, "-c", "import sys; from chalice.cli import main; sys.exit(main())"]
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(  # noqa: S603 - our interpreter, Chalice's CLI, our arguments
        [*command, *arguments], cwd=staged.path, env=environment, check=False
    )
    if result.returncode != 0:
        raise DeployError(f"chalice {' '.join(arguments)} failed ({result.returncode})")


def _read_deployment(project: Project, stage: str) -> Deployment:
    deployed = json.loads(project.deployed_file(stage).read_text())
    return Deployment(stage=stage, resources=deployed["resources"])


# After chalice deploy ---------------------------------------------------------------------


def _configure_failure_handling(
    session: boto3.session.Session,
    config: dict[str, Any],
    stage: str,
    deployment: Deployment,
    failure_queues: dict[str, str],
    log: Log,
) -> None:
    lam = session.client("lambda")
    prefix = f"{APP_NAME}-{stage}-"
    for mapping in deployment.of_type("dynamodb_event"):
        _update_mapping(
            lam,
            mapping["event_uuid"],
            FunctionResponseTypes=["ReportBatchItemFailures"],
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=STREAM_MAX_RETRIES,
            DestinationConfig={"OnFailure": {"Destination": failure_queues["stream-failures"]}},
        )
    for mapping in deployment.of_type("sqs_event"):
        function = mapping["lambda_arn"].rsplit(":", 1)[-1].removeprefix(prefix)
        settings: dict[str, Any] = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
        reserved = _setting(config, stage, "reserved_concurrency", function)
        if reserved and int(reserved) >= 2:  # SQS's minimum
            # More concurrent invocations than the reserved concurrency would be throttled,
            # and a throttled message counts a receive towards the dead-letter queue.
            settings["ScalingConfig"] = {"MaximumConcurrency": int(reserved)}
        _update_mapping(lam, mapping["event_uuid"], **settings)
    for notification in deployment.of_type("s3_event"):
        lam.put_function_event_invoke_config(
            FunctionName=notification["lambda_arn"],
            MaximumRetryAttempts=UPLOAD_MAX_RETRIES,
            MaximumEventAgeInSeconds=UPLOAD_MAX_EVENT_AGE_SECONDS,
            DestinationConfig={"OnFailure": {"Destination": failure_queues["upload-failures"]}},
        )
    log("failure handling set on every event source")


def _complete_rest_api(
    session: boto3.session.Session,
    config: dict[str, Any],
    stage: str,
    deployment: Deployment,
    log: Log,
) -> None:
    """What Chalice's Swagger cannot say about the REST API, set after every ``chalice
    deploy`` (its import overwrites the API's definition) and published as a new deployment
    of the stage.

    - Gateway responses (``infrastructure/gateway_responses.py``): API Gateway's own answers
      in the app's ``{"Code", "Message"}`` shape, a path no route has 404 instead of 403.
    - An ``ANY`` method on every route's resource, proxied to the REST function as Chalice's
      own methods are: API Gateway answers a method a resource lacks as if the path did not
      exist, so without it a wrong method would be 404 rather than the app's 405 with
      ``Allow``, and a CORS preflight would never reach the app. API Gateway prefers a
      resource's own methods to ``ANY``. The permission Chalice grants API Gateway to invoke
      the function names the API's every stage, method and path (``<api>/*``).
    """
    apigateway = session.client("apigateway")
    api_id = deployment.value("rest_api", "rest_api_id")
    environment = {
        **config.get("environment_variables", {}),
        **config.get("stages", {}).get(stage, {}).get("environment_variables", {}),
    }
    cors = cors_headers(environment.get("CORS_ALLOWED_ORIGINS", ""))
    for response in GATEWAY_RESPONSES:
        settings: dict[str, Any] = {
            "responseParameters": {
                f"gatewayresponse.header.{name}": f"'{value}'"
                for name, value in {**response.headers, **cors}.items()
            },
            "responseTemplates": {"application/json": response.template()},
        }
        if response.status is not None:
            settings["statusCode"] = str(response.status)
        apigateway.put_gateway_response(
            restApiId=api_id, responseType=response.response_type, **settings
        )
    routes = 0
    for page in apigateway.get_paginator("get_resources").paginate(restApiId=api_id):
        for resource in page["items"]:
            methods = sorted(resource.get("resourceMethods", {}))
            if not methods:  # "/" or a path's parent: no route, so the 404 stays
                continue
            routes += 1
            if "ANY" not in methods:
                apigateway.put_method(
                    restApiId=api_id,
                    resourceId=resource["id"],
                    httpMethod="ANY",
                    authorizationType="NONE",
                )
            # The integration of Chalice's own methods there, as it is: function, body handling.
            chalices = apigateway.get_integration(
                restApiId=api_id, resourceId=resource["id"], httpMethod=methods[0]
            )
            apigateway.put_integration(
                restApiId=api_id,
                resourceId=resource["id"],
                httpMethod="ANY",
                type="AWS_PROXY",
                integrationHttpMethod="POST",
                uri=chalices["uri"],
                **{k: chalices[k] for k in _PROXY_SETTINGS if chalices.get(k) is not None},
            )
    stage_name = _setting(config, stage, "api_gateway_stage") or "api"
    apigateway.create_deployment(
        restApiId=api_id,
        stageName=stage_name,
        description="make deploy: gateway responses, ANY on every route",
    )
    log(f"REST API: {len(GATEWAY_RESPONSES)} gateway responses, ANY on {routes} routes")


def _throttle_rest_stage(
    session: boto3.session.Session,
    config: dict[str, Any],
    stage: str,
    deployment: Deployment,
    throttle: dict[str, Any],
    log: Log,
) -> None:
    """Cap the REST stage's requests (``api_gateway_throttle`` in chalice.json), which Chalice
    cannot set (aws/chalice#482): a flood is refused with 429 by API Gateway before it costs a
    Lambda invocation. Per-user write limits (chalicelib/limits) sit behind it."""
    api_id = deployment.value("rest_api", "rest_api_id")
    stage_name = _setting(config, stage, "api_gateway_stage") or "api"
    rate, burst = float(throttle["rate_limit"]), int(throttle["burst_limit"])
    session.client("apigateway").update_stage(
        restApiId=api_id,
        stageName=stage_name,
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(rate)},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(burst)},
        ],
    )
    log(f"REST stage {stage_name} throttled to {rate:g} requests/s, bursts of {burst}")


def _update_mapping(lam: Any, uuid: str, **settings: Any) -> None:
    """Update an event source mapping once it has settled: one Chalice just made is
    "Creating" for a few seconds, and AWS refuses changes until it is not."""
    deadline = time.monotonic() + 300
    while True:
        try:
            lam.update_event_source_mapping(UUID=uuid, **settings)
            return
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
            if time.monotonic() > deadline:
                raise DeployError(f"event source mapping {uuid} never settled") from exc
            time.sleep(5)


def _existing_search_endpoint(resources: DeployResources) -> str | None:
    try:
        domain = resources.client("opensearch").describe_domain(
            DomainName=resource_name(resources.stage, OPENSEARCH_DOMAIN.family)
        )["DomainStatus"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ResourceNotFoundException",):
            return None
        raise
    return f"https://{domain['Endpoint']}" if domain.get("Endpoint") else None


def _check_layers() -> None:
    built = {path.parent.name for path in LAYERS_DIR.glob("*/requirements.txt")}
    if built != set(LAYERS):
        raise DeployError(
            f"layers/ has {sorted(built)} but LAYERS attaches {sorted(LAYERS)}: a layer's "
            "packages leave the function package, so every layer must go to the functions "
            "that use it"
        )


def _check_stage_name(stage: str) -> None:
    if not _STAGE_NAME.match(stage):
        raise DeployError(
            f"stage {stage!r}: use 1-20 lower-case letters, digits and '-', starting with a letter "
            "(it goes into table, bucket, role and function names)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("deploy", "destroy"))
    parser.add_argument("--stage", required=True)
    parser.add_argument("--profile", help="an AWS CLI profile (default: the usual chain)")
    parser.add_argument("--region", help="default: the profile's or AWS_REGION")
    parser.add_argument("--opensearch", action="store_true", help="create the OpenSearch domain")
    parser.add_argument("--yes", action="store_true", help="destroy without asking")
    args = parser.parse_args(argv)
    # Chalice runs in a subprocess and reads the same environment.
    if args.profile:
        os.environ["AWS_PROFILE"] = args.profile
    region = args.region or os.environ.get("AWS_REGION") or boto3.session.Session().region_name
    if region is None:
        parser.error("no region: pass --region, set AWS_REGION or give the profile one")
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    session = boto3.session.Session(region_name=region)
    try:
        if args.command == "deploy":
            deploy(args.stage, session=session, opensearch=args.opensearch)
        else:
            if not args.yes and not _confirmed(args.stage):
                print("nothing deleted")
                return 1
            destroy(args.stage, session=session)
    except DeployError as error:
        print(f"{args.command} failed: {error}", file=sys.stderr)
        return 1
    return 0


def _confirmed(stage: str) -> bool:
    print(f"This deletes {APP_NAME} {stage}: its functions, APIs, tables, user pool and bucket,")
    print("with every user, post, message and photo in them. Type the stage name to go on.")
    return input("> ").strip() == stage


if __name__ == "__main__":
    raise SystemExit(main())
