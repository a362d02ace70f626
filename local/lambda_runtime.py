"""What the Lambda runtime gives a handler: a context object, and one invocation at a time.

The local stack calls the same handler objects Chalice registers for Lambda
(`app.handler_map[name]`) with events shaped as AWS shapes them. Each invocation prints one
line saying what it did, with what it wrote below (`local.console`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from local.console import console

log = logging.getLogger("local_stack")

LambdaHandler = Callable[[dict[str, Any], Any], Any]
# What an invocation did, in one line, from its result or its exception and its milliseconds.
Describe = Callable[[Any, BaseException | None, float], str]


class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Powertools read."""

    def __init__(
        self,
        function_name: str,
        timeout_seconds: float = 60.0,
        memory_limit_in_mb: int = 512,
        region: str = "us-east-1",
        account_id: str = "123456789012",
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def invoke(
    handler: LambdaHandler,
    event: dict[str, Any],
    function_name: str,
    timeout_seconds: float = 60.0,
    describe: Describe | None = None,
) -> Any:
    """Call a Lambda handler as the runtime would: a fresh context per invocation.

    Prints ``describe(result, error, milliseconds)`` (by default the function's name and the
    time), then what the handler wrote while it ran.
    """
    context = LambdaContext(function_name, timeout_seconds=timeout_seconds)
    describe = describe or _function_and_time(function_name)
    started = time.perf_counter()
    with console.capture() as written:
        try:
            result = handler(event, context)
        except BaseException as error:
            console.report(describe(None, error, _since(started)), written)
            raise
    console.report(describe(result, None, _since(started)), written)
    return result


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _function_and_time(function_name: str) -> Describe:
    def describe(result: Any, error: BaseException | None, ms: float) -> str:
        outcome = f" failed ({type(error).__name__})" if error is not None else ""
        return f"{function_name}{outcome} {ms:.0f} ms"

    return describe
