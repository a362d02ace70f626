"""What a function writes to its log: each line once, as Powertools' JSON, with its own keys.

Lambda sends a function's stdout and stderr to CloudWatch, so these tests run the real app
in a fresh process, as Lambda's init does, and read everything that process writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import TEST_PASSWORD, unique_username

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"

# One REST request (a sign-up, which logs a line and a metric), then one S3 event for a key
# outside the upload layout (the resize function logs a warning), through the app's handlers.
INVOCATIONS = """
import json, os, sys
from chalice.test import Client
from app import app

username = sys.argv[1]
with Client(app) as client:
    signed_up = client.http.post(
        "/auth/signup",
        headers={"Content-Type": "application/json"},
        body=json.dumps(
            {"username": username, "email": username + "@example.com", "password": sys.argv[2]}
        ),
    )
    assert signed_up.status_code == 201, signed_up.body
    event = client.events.generate_s3_event(os.environ["MEDIA_BUCKET"], "uploads/not-an-upload")
    client.lambda_.invoke("process_upload", event)
"""


def run_in_a_fresh_process() -> tuple[list[str], list[str]]:
    result = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", INVOCATIONS, unique_username("logs"), TEST_PASSWORD],
        cwd=FUNCTIONS,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.splitlines(), result.stderr.splitlines()


def test_one_request_writes_each_line_once_as_json_and_events_carry_their_own_function(
    embedded_aws,
) -> None:  # type: ignore[no-untyped-def]
    stdout, stderr = run_in_a_fresh_process()

    assert stderr == []  # no text logs, no warnings
    lines = [json.loads(line) for line in stdout]  # every line is JSON
    signed_up = [line for line in lines if line.get("message") == "user signed up"]
    assert len(signed_up) == 1
    assert signed_up[0]["function_name"] == "api_handler"
    assert [line["SignUps"] for line in lines if "SignUps" in line] == [[1.0]]  # one metric
    (ignored,) = [line for line in lines if line.get("message", "").startswith("ignored object")]
    assert ignored["function_name"] == "process_upload"
    assert ignored["key"] == "uploads/not-an-upload"
    # Nothing of the request before it: its user, its correlation id.
    assert "user_id" not in ignored and "correlation_id" not in ignored
