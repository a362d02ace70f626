"""What moto lacks for ``chalice deploy``, patched in one place, each with its reason.

The deploy test (``tests/deploy``) runs the real ``chalice deploy`` against the embedded AWS.
moto 5.2 answers every call Chalice and ``infrastructure.deploy`` make except the ones below;
each patch makes moto answer as AWS does, and nothing more. They are installed for the
length of a ``with deploy_patches():`` block, in the process that serves the embedded AWS,
and removed afterwards so no other test sees them.
``tests/deploy/test_moto_deploy_patches.py`` fails when a moto upgrade makes one unnecessary
or breaks what it patches.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any

# --- S3: notification filter rule names ---------------------------------------------------
# S3 takes a key filter's rule names in any case ("Prefix" or "prefix"), and Chalice sends
# "Prefix"; moto asserts the lower-case spelling and answers 500. Lower-casing them before
# moto parses the body is what S3 does (its matching is case-insensitive); moto then stores
# and matches the rule as usual.

_FILTER_RULE_NAME = re.compile(rb"<Name>(Prefix|Suffix)</Name>")


def _patch_s3_filter_rule_names() -> Callable[[], None]:
    from moto.s3.responses import S3Response

    original = S3Response._notification_config_from_body

    def notification_config_from_body(self: Any) -> Any:
        body = self.body if isinstance(self.body, bytes) else self.body.encode()
        self.body = _FILTER_RULE_NAME.sub(lambda m: b"<Name>" + m[1].lower() + b"</Name>", body)
        return original(self)

    S3Response._notification_config_from_body = notification_config_from_body  # type: ignore[method-assign]
    return lambda: setattr(S3Response, "_notification_config_from_body", original)


# --- API Gateway: importing a Swagger 2.0 document -----------------------------------------
# API Gateway imports Swagger 2.0 and OpenAPI 3 alike, and Chalice sends Swagger 2.0 (with no
# info.description); moto refuses anything but OpenAPI 3 ("InvalidOpenApiDocVersion") and
# needs a description. The part of the document moto reads (paths, methods, responses,
# x-amazon-apigateway-integration) is spelled the same in both versions, so it is handed to
# moto as OpenAPI 3.


def _as_openapi3(api_doc: dict[str, Any]) -> dict[str, Any]:
    if api_doc.get("swagger") != "2.0":
        return api_doc
    converted = {key: value for key, value in api_doc.items() if key != "swagger"}
    converted["openapi"] = "3.0.1"
    converted["info"] = {"description": "", **api_doc.get("info", {})}
    return converted


def _patch_swagger_import() -> Callable[[], None]:
    from moto.apigateway.models import APIGatewayBackend

    original_import = APIGatewayBackend.import_rest_api
    original_put = APIGatewayBackend.put_rest_api

    def import_rest_api(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
        return original_import(self, _as_openapi3(api_doc), fail_on_warnings)

    def put_rest_api(
        self: Any, function_id: str, api_doc: dict[str, Any], *a: Any, **kw: Any
    ) -> Any:
        return original_put(self, function_id, _as_openapi3(api_doc), *a, **kw)

    APIGatewayBackend.import_rest_api = import_rest_api  # type: ignore[method-assign]
    APIGatewayBackend.put_rest_api = put_rest_api  # type: ignore[method-assign]

    def undo() -> None:
        APIGatewayBackend.import_rest_api = original_import  # type: ignore[method-assign]
        APIGatewayBackend.put_rest_api = original_put  # type: ignore[method-assign]

    return undo


# --- API Gateway v2: deployments of a WebSocket API ---------------------------------------
# Chalice publishes a WebSocket API with CreateDeployment, then CreateStage naming that
# deployment; moto has no deployments at all (no URL, no handler). A deployment here is a
# record on the API (id, status, date), listed by GetDeployments, which is all AWS returns.

_DEPLOYMENTS_PATH = "{0}/v2/apis/(?P<api_id>[^/]+)/deployments$"


def _patch_websocket_deployments() -> Callable[[], None]:
    from moto.apigateway import urls as v1_urls
    from moto.apigatewayv2 import urls
    from moto.apigatewayv2.responses import ApiGatewayV2Response

    def create_deployment(self: Any) -> Any:
        api = self.apigatewayv2_backend.get_api(self.path.split("/")[-2])
        body = json.loads(self.body or "{}")
        deployment = {
            "deploymentId": uuid.uuid4().hex[:6],
            "deploymentStatus": "DEPLOYED",
            "createdDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "description": body.get("description", ""),
            "autoDeployed": False,
        }
        api.__dict__.setdefault("deployments", []).append(deployment)
        return 201, {}, json.dumps(deployment)

    def get_deployments(self: Any) -> Any:
        api = self.apigatewayv2_backend.get_api(self.path.split("/")[-2])
        return 200, {}, json.dumps({"items": api.__dict__.get("deployments", [])})

    ApiGatewayV2Response.create_deployment = create_deployment  # type: ignore[attr-defined]
    ApiGatewayV2Response.get_deployments = get_deployments  # type: ignore[attr-defined]
    # Both API Gateway versions answer on one host, so moto serves v2's paths from a copy
    # in v1's URL table too, made when that module was first imported.
    for table in (urls.url_paths, v1_urls.url_paths):
        table[_DEPLOYMENTS_PATH] = ApiGatewayV2Response.dispatch

    def undo() -> None:
        for table in (urls.url_paths, v1_urls.url_paths):
            table.pop(_DEPLOYMENTS_PATH, None)
        del ApiGatewayV2Response.create_deployment  # type: ignore[attr-defined]
        del ApiGatewayV2Response.get_deployments  # type: ignore[attr-defined]

    return undo


PATCHES: tuple[Callable[[], Callable[[], None]], ...] = (
    _patch_s3_filter_rule_names,
    _patch_swagger_import,
    _patch_websocket_deployments,
)


@contextmanager
def deploy_patches() -> Iterator[None]:
    """Install every patch for the block's length.

    Install them before the embedded AWS first serves the services they touch: moto builds
    each service's URL map on its first request.
    """
    with ExitStack() as undo:
        for patch in PATCHES:
            undo.callback(patch())
        yield
