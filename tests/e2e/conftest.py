"""The end-to-end ring: the local stack as ``make run`` starts it, driven over the network."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import TEST_PASSWORD, Account, small_jpeg, unique_username

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "local stack ready"
START_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningStack:
    api_url: str
    ws_url: str
    aws_url: str
    process: subprocess.Popen[str]
    output: list[str]

    def sign_up(self, prefix: str = "e2e") -> Account:
        username = unique_username(prefix)
        created = requests.post(
            f"{self.api_url}/auth/signup",
            json={
                "username": username,
                "email": f"{username}@example.com",
                "password": TEST_PASSWORD,
            },
            timeout=10,
        )
        assert created.status_code == 201, created.text
        session = requests.post(
            f"{self.api_url}/auth/login",
            json={"username": username, "password": TEST_PASSWORD},
            timeout=10,
        ).json()
        return Account(session["user_id"], username, session["token"], session["refresh_token"])

    def call(self, method: str, path: str, account: Account, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {account.token}"}
        return requests.request(
            method, f"{self.api_url}{path}", headers=headers, timeout=15, **kwargs
        )

    def upload_photo(
        self, account: Account, photo: bytes | None = None, purpose: str = "post"
    ) -> str:
        """Upload through the presigned POST and wait until the resize function made it ready."""
        data = photo or small_jpeg()
        created = self.call(
            "POST", "/media/uploads", account,
            json={"content_type": "image/jpeg", "size_bytes": len(data), "purpose": purpose},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        upload = created.json()
        sent = requests.post(
            upload["upload"]["url"], data=upload["upload"]["fields"],
            files={"file": ("photo.jpg", data, "image/jpeg")}, timeout=30,
        )  # fmt: skip
        assert sent.status_code == 204, sent.text
        media_id = upload["media_id"]
        status = wait_until(
            lambda: (
                self.call("GET", f"/media/{media_id}", account).json()["status"] != "pending"
                and self.call("GET", f"/media/{media_id}", account).json()["status"]
            )
        )
        assert status == "ready"
        return media_id

    def post_photo(self, account: Account, caption: str = "") -> str:
        media_id = self.upload_photo(account)
        created = self.call(
            "POST", "/posts", account, json={"media_ids": [media_id], "caption": caption}
        )
        assert created.status_code == 201, created.text
        return created.json()["post_id"]


def wait_until(condition: Callable[[], Any], timeout: float = 15.0, every: float = 0.05) -> Any:
    """Poll until ``condition()`` returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def start_stack(extra_env: dict[str, str] | None = None) -> RunningStack:
    ports = {"API_PORT": free_port(), "WS_PORT": free_port(), "AWS_PORT": free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, **(extra_env or {})}
    for leaked in ("AWS_ENDPOINT_URL", "USERS_TABLE", "USER_POOL_ID", "CURSOR_SECRET"):
        env.pop(leaked, None)  # the stack must configure itself, as on a fresh machine
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()

    def read_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip())
            if READY_LINE in line:
                ready.set()

    threading.Thread(target=read_output, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("local stack did not start:\n" + "\n".join(output[-40:]))
    return RunningStack(
        api_url=f"http://127.0.0.1:{ports['API_PORT']}",
        ws_url=f"ws://127.0.0.1:{ports['WS_PORT']}",
        aws_url=f"http://127.0.0.1:{ports['AWS_PORT']}",
        process=process,
        output=output,
    )


def stop_stack(stack: RunningStack) -> int:
    stack.process.send_signal(signal.SIGTERM)
    try:
        return stack.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


@pytest.fixture(scope="session")
def local_stack() -> Iterator[RunningStack]:
    stack = start_stack()
    yield stack
    assert stop_stack(stack) == 0, "\n".join(stack.output[-40:])
