"""The deploy's configuration agrees with itself: chalice.json, the IAM policies, the layers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infrastructure.deploy import LAYERS, STREAM_MAX_RETRIES, DeployError, _check_stage_name
from infrastructure.iam import StageTargets, function_names, lambda_function_name, render_policy
from infrastructure.packaging import function_requirements, remove_distribution, requirement_name
from layers.build import LAYERS_DIR, RUNTIME_PROVIDED

REPO = Path(__file__).resolve().parents[2]
CHALICE = json.loads((REPO / "chalice.json").read_text())
TARGETS = StageTargets("prod", "eu-west-1", "111122223333", "media-bucket", "eu-west-1_pool", "ws1")


def test_every_function_in_chalice_json_has_its_own_policy_file_and_no_generated_one() -> None:
    assert CHALICE["autogen_policy"] is False
    functions = CHALICE["lambda_functions"]
    assert sorted(functions) == function_names()
    for name, settings in functions.items():
        assert settings["iam_policy_file"] == f"policies/{name}.json"


@pytest.mark.parametrize("function", function_names())
def test_each_policy_renders_to_this_stage_only(function: str) -> None:
    policy = render_policy(function, TARGETS)
    text = json.dumps(policy)
    assert "${" not in text
    assert policy["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in policy["Statement"]]
    assert len(sids) == len(set(sids)), "Sids must be unique"
    for statement in policy["Statement"]:
        resources = statement["Resource"]
        for resource in [resources] if isinstance(resources, str) else resources:
            if resource == "*":
                assert statement["Action"] == "dynamodb:ListStreams"
            elif ":dynamodb:" in resource or ":sqs:" in resource:
                assert ":eu-west-1:111122223333:" in resource
                assert "shutter-prod-" in resource
    own_logs = f"log-group:/aws/lambda/{lambda_function_name('prod', function)}"
    assert any(own_logs in json.dumps(s["Resource"]) for s in policy["Statement"])


def test_stream_functions_may_read_only_their_own_stream() -> None:
    for function in function_names():
        text = json.dumps(render_policy(function, TARGETS))
        streams = {
            part.split("/stream")[0].rsplit("-", 1)[-1]
            for part in text.split('"')
            if "/stream/" in part
        }
        if function.endswith("_stream"):
            assert streams == {function.removesuffix("_stream")}, function
        else:
            assert not streams, function


def test_tracing_adds_xray_permissions_only_when_on() -> None:
    off = json.dumps(render_policy("posts_stream", TARGETS))
    on = json.dumps(render_policy("posts_stream", TARGETS, tracing=True))
    assert "xray:" not in off and "xray:PutTraceSegments" in on


def test_every_layer_is_attached_and_pinned_as_requirements_txt_pins_it() -> None:
    assert {path.parent.name for path in LAYERS_DIR.glob("*/requirements.txt")} == set(LAYERS)
    for users in LAYERS.values():
        assert set(users) <= set(function_names())
    lines = function_requirements(
        REPO / "requirements.txt", [LAYERS_DIR / n / "requirements.txt" for n in LAYERS]
    )
    names = {requirement_name(line) for line in lines}
    assert not names & {"cryptography", "opensearch-py", "pillow", "boto3", "botocore"}
    assert {"pydantic", "pynamodb", "aws-lambda-powertools"} <= names


def test_a_layer_pinning_another_version_is_refused(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pydantic==2.0.0\nPyJWT==2.15.1  # tokens\n")
    layer = tmp_path / "layer.txt"
    layer.write_text("pydantic==2.1.0\n")
    with pytest.raises(ValueError, match="pins"):
        function_requirements(requirements, [layer])
    layer.write_text("# same pin\npydantic==2.0.0\n")
    assert function_requirements(requirements, [layer]) == ["PyJWT==2.15.1"]


def test_requirement_names_are_normalised() -> None:
    assert requirement_name("aws-lambda-powertools[tracer]==3.37.0") == "aws-lambda-powertools"
    assert requirement_name("PyJWT==2.15.1") == "pyjwt"
    assert requirement_name("python_dateutil>=2") == "python-dateutil"
    assert requirement_name("# a comment") is None
    assert requirement_name("-r other.txt") is None


def test_removing_a_distribution_removes_its_files_only(tmp_path: Path) -> None:
    (tmp_path / "botocore").mkdir()
    (tmp_path / "botocore" / "__init__.py").write_text("")
    info = tmp_path / "botocore-1.0.dist-info"
    info.mkdir()
    (info / "RECORD").write_text("botocore/__init__.py,,\nbotocore-1.0.dist-info/RECORD,,\n")
    (tmp_path / "pynamodb").mkdir()
    assert remove_distribution(tmp_path, "botocore")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pynamodb"]
    assert not remove_distribution(tmp_path, "boto3")
    assert "botocore" in RUNTIME_PROVIDED


@pytest.mark.parametrize("stage", ["", "Prod", "prod_1", "-prod", "a" * 21])
def test_stage_names_that_do_not_fit_resource_names_are_refused(stage: str) -> None:
    with pytest.raises(DeployError):
        _check_stage_name(stage)


def test_stream_retries_are_bounded() -> None:
    assert 0 < STREAM_MAX_RETRIES <= 10
