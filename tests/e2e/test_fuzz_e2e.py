"""A fuzzer nobody here wrote: schemathesis, from the OpenAPI document the running local
stack serves, against that stack, signed in as a real user.

Every one of schemathesis's default checks must pass over every operation: no 5xx, no
status or header the document does not declare, no body its schema rejects, no schema-valid
request refused, no invalid one accepted, no undeclared method answered but with 405. The
exceptions, each with its reason, are in ``schemathesis.toml`` beside this file.

Random ids name nothing (404), so the test first makes a small world (another user with a
post, a comment, a story; a conversation; the fuzzer's own ready photo) and hands schemathesis
its ids as dictionaries: each path parameter takes a real id half the time.

``make test`` runs a bounded, seeded pass (``FUZZ_MAX_EXAMPLES`` examples per operation);
``make fuzz`` runs a longer one with a new seed each time, stateful phase included.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import RunningStack, start_stack, stop_stack

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
SEED = os.environ.get("FUZZ_SEED", "20261203")  # "random": a new one each run
PHASES = os.environ.get("FUZZ_PHASES", "examples,coverage,fuzzing")
# How often a path parameter takes a real id rather than a generated string.
REAL_ID_PROBABILITY = 0.5


@pytest.fixture(scope="module")
def fuzzed_stack() -> Iterator[RunningStack]:
    """A stack of its own: the fuzzer likes, follows, blocks and deletes at random."""
    stack = start_stack()
    yield stack
    assert stop_stack(stack) == 0, "\n".join(stack.output[-40:])


def run_config(world: dict[str, list[str]]) -> str:
    """The checked-in configuration, and this run's parameters and dictionaries."""
    lines = [CONFIG.read_text(), "[parameters]"]
    # Cursors are opaque and signed (docs/API.md, Lists): one the server did not hand out is
    # bad input (400), the contract and not a bug. Lists are fuzzed from their first page;
    # the unit and integration tests page with real and forged cursors.
    lines.append('"query.cursor" = ""')
    for name in world:
        binding = {"dictionary": name, "probability": REAL_ID_PROBABILITY}
        inline = ", ".join(f"{key} = {json.dumps(value)}" for key, value in binding.items())
        lines.append(f'"path.{name}" = {{ {inline} }}')
    lines.append("[dictionaries]")
    for name, values in world.items():
        lines.append(f"{name} = {{ values = {json.dumps(values)} }}")
    return "\n".join(lines) + "\n"


def make_world(stack: RunningStack) -> tuple[str, dict[str, list[str]]]:
    """The fuzzer's token, and the ids of what it may act on, by path parameter."""
    fuzzer, other = stack.sign_up("fuzzer"), stack.sign_up("target")
    post_id = stack.post_photo(other, "a #fuzz target")
    comment = stack.call("POST", f"/posts/{post_id}/comments", other, json={"text": "first"})
    story_media = stack.upload_photo(other, purpose="story")
    story = stack.call("POST", "/stories", other, json={"media_id": story_media})
    message = stack.call(
        "POST", "/messages", other,
        json={"to": fuzzer.user_id, "text": "hello", "client_id": str(uuid.uuid4())},
    )  # fmt: skip
    for made in (comment, story, message):
        assert made.status_code == 201, made.text
    world = {
        "user_id": [other.user_id, fuzzer.user_id],
        "username": [other.username],
        "post_id": [post_id],
        "comment_id": [comment.json()["comment_id"]],
        "story_id": [story.json()["story_id"]],
        "conversation_id": [message.json()["conversation_id"]],
        "media_id": [stack.upload_photo(fuzzer)],
        "tag": ["fuzz"],
    }
    return fuzzer.token, world


@pytest.mark.timeout(3600)  # make test's pass takes about two minutes; make fuzz's longer
def test_schemathesis_finds_nothing_over_every_operation(
    fuzzed_stack: RunningStack, tmp_path: Path
) -> None:
    token, world = make_world(fuzzed_stack)
    document = requests.get(f"{fuzzed_stack.api_url}/openapi.json", timeout=10)
    assert document.status_code == 200, document.text
    config = tmp_path / "schemathesis.toml"
    config.write_text(run_config(world))
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file", str(config),
        "--no-color",
        "run", f"{fuzzed_stack.api_url}/openapi.json",
        "--url", fuzzed_stack.api_url,
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(MAX_EXAMPLES),
        "--phases", PHASES,
        *([] if SEED == "random" else ["--seed", SEED]),
    ]  # fmt: skip
    run = subprocess.run(  # noqa: S603 - schemathesis from our .venv, arguments of ours
        command, capture_output=True, text=True, timeout=3600, check=False
    )
    summary = "\n".join(line for line in run.stdout.splitlines()[-30:] if line.strip())
    print(summary)  # operations, test cases and time: shown with pytest -rP (make fuzz)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:]
    operations = sum(len(item) for item in document.json()["paths"].values())
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert tested is not None and int(tested.group(1)) == operations, summary
