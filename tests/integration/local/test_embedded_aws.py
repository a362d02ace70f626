"""The embedded AWS in a process of its own, as the local stack runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import pytest
import requests

from local.embedded_aws import EmbeddedAws
from tests.e2e.conftest import wait_until

ROOT = Path(__file__).resolve().parents[3]


def _dynamodb(endpoint_url: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "dynamodb", endpoint_url=endpoint_url, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="x",
    )  # fmt: skip


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A child that exited but was not reaped yet is a zombie: gone for our purpose.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


def test_it_serves_from_a_child_process_and_stop_ends_that_process() -> None:
    aws = EmbeddedAws(own_process=True).start()
    child = aws._process
    assert child is not None and child.pid != os.getpid()
    try:
        client = _dynamodb(aws.endpoint_url)
        client.create_table(
            TableName="own-process",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        client.put_item(TableName="own-process", Item={"pk": {"S": "kept"}})
        item = client.get_item(TableName="own-process", Key={"pk": {"S": "kept"}})["Item"]
        assert item == {"pk": {"S": "kept"}}
        endpoint = aws.endpoint_url
    finally:
        aws.stop()

    assert child.returncode == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(endpoint, timeout=2)


def test_the_child_exits_when_its_parent_is_killed() -> None:
    parent_script = textwrap.dedent(
        """
        import sys, time
        from local.embedded_aws import EmbeddedAws
        aws = EmbeddedAws(own_process=True).start()
        print(aws._process.pid, aws.endpoint_url, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", parent_script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        child_pid, endpoint = parent.stdout.readline().split()
        assert _dynamodb(endpoint).list_tables()["TableNames"] == []
        parent.send_signal(signal.SIGKILL)  # no chance to stop it
        parent.wait(timeout=10)
        wait_until(lambda: _gone(int(child_pid)), timeout=10)
    finally:
        parent.kill()
        parent.wait()
