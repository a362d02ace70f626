"""``make run``: start the local stack, print its URLs, stop cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from local.stack import LocalStack, LocalStackConfig


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for chatty in ("botocore", "pynamodb"):  # INFO lines about where credentials came from
        logging.getLogger(chatty).setLevel(logging.WARNING)
    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    stack = LocalStack(LocalStackConfig.from_environment()).start()
    try:
        print(f"REST API:      {stack.rest.url}", flush=True)  # type: ignore[union-attr]
        print(f"WebSocket API: {stack.websocket.url}", flush=True)  # type: ignore[union-attr]
        print(f"Embedded AWS:  {stack.aws.endpoint_url}", flush=True)
        print("local stack ready (Ctrl-C stops it)", flush=True)
        stopping.wait()
    finally:
        print("stopping local stack", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
