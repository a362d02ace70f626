"""Each Lambda function's IAM policy, written by hand in ``<function>.json`` beside this file.

Chalice's generated policy reads only ``app.py`` and misses every call made from
``chalicelib``, so ``chalice.json`` turns it off (``autogen_policy: false``) and gives each
function its own role with the policy named here: just the tables, indexes, streams,
buckets, queues and actions that function's code uses. The files are templates; the deploy
step fills in the stage's ARNs with :func:`render_policy` and hands them to Chalice.

Placeholders (``${name}``, as ``string.Template`` reads them):

``${table}``
    ``arn:aws:dynamodb:<region>:<account>:table/shutter-<stage>``; a table is
    ``${table}-<family>``, its indexes ``.../index/<name>``, its stream ``.../stream/*``.
``${media_bucket}``
    the media bucket's ARN; objects are ``${media_bucket}/uploads/*`` and ``.../renditions/*``.
``${queue}``
    ``arn:aws:sqs:<region>:<account>:shutter-<stage>``; a queue is ``${queue}-<family>``.
``${user_pool}``
    the Cognito user pool's ARN.
``${log_group}``
    the function's own log group.
``${websocket_connections}``
    posting to the WebSocket API's ``@connections`` of this stage (nothing before the API
    exists).
``${websocket_close}``
    deleting (closing) those connections.
``${search_domain}``
    the stage's OpenSearch domain's ARN (``resources.OPENSEARCH_DOMAIN``), whether or not the
    stage has one: without it the grant names nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from infrastructure.resources import APP_NAME, OPENSEARCH_DOMAIN

POLICY_DIR = Path(__file__).resolve().parent
# An API id no API has: ARNs naming it grant nothing until the WebSocket API exists.
NO_API = "none"

# Added to every policy of a stage that runs with X-Ray tracing ("xray": true in chalice.json).
XRAY_STATEMENT = {
    "Sid": "SendTraces",
    "Effect": "Allow",
    "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
    "Resource": "*",
}


@dataclass(frozen=True)
class StageTargets:
    """What the policies of one stage point at."""

    stage: str
    region: str
    account: str
    media_bucket: str
    user_pool_id: str
    websocket_api_id: str | None = None
    websocket_stage: str = "api"
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        where = f"{self.region}:{self.account}" if regional else ":"
        return f"arn:{self.partition}:{service}:{where}:{resource}"

    def values(self, function_name: str) -> dict[str, str]:
        prefix = f"{APP_NAME}-{self.stage}"
        api = self.websocket_api_id or NO_API
        return {
            "table": self.arn("dynamodb", f"table/{prefix}"),
            "media_bucket": f"arn:{self.partition}:s3:::{self.media_bucket}",
            "queue": self.arn("sqs", prefix),
            "user_pool": self.arn("cognito-idp", f"userpool/{self.user_pool_id}"),
            "log_group": self.arn("logs", f"log-group:/aws/lambda/{function_name}"),
            "websocket_connections": self.arn(
                "execute-api", f"{api}/{self.websocket_stage}/POST/@connections/*"
            ),
            "websocket_close": self.arn(
                "execute-api", f"{api}/{self.websocket_stage}/DELETE/@connections/*"
            ),
            "search_domain": self.arn("es", f"domain/{prefix}-{OPENSEARCH_DOMAIN.family}"),
        }


def function_names() -> list[str]:
    """Every function that has a policy: one file per function."""
    return sorted(path.stem for path in POLICY_DIR.glob("*.json"))


def lambda_function_name(stage: str, function: str) -> str:
    """The name Chalice gives the function; the REST handler's is the app's and stage's."""
    if function == "api_handler":
        return f"{APP_NAME}-{stage}"
    return f"{APP_NAME}-{stage}-{function}"


def render_policy(function: str, targets: StageTargets, *, tracing: bool = False) -> dict[str, Any]:
    """The policy of ``function`` for the stage in ``targets``.

    Raises ``KeyError`` for a placeholder the template names that is not known, so a typo
    fails the deploy instead of granting something odd.
    """
    template = Template((POLICY_DIR / f"{function}.json").read_text())
    values = targets.values(lambda_function_name(targets.stage, function))
    policy = json.loads(template.substitute(values))
    if tracing:
        policy["Statement"].append(dict(XRAY_STATEMENT))
    return policy
