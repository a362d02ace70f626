"""Direct messages on the local stack: send-to-receive latency over real WebSockets.

Starts the local stack as ``make run`` does (its own free loopback ports), signs up 10 pairs,
connects both members of each pair, and has the 10 pairs talk at once: each sender sends a
message, waits for it to reach the recipient's socket, and sends the next, 100 times, so
1,000 messages in all. Latency is from just before the sender's frame is written to the
moment the recipient's ``message`` frame is read: API Gateway's ``$default`` event, the
handler's transaction on the embedded AWS, and the push through the management API.

moto serialises every request and the handlers share one process here, so the figures are
for comparing runs on this machine; on AWS each invocation runs in its own Lambda.

Run with ``python -m tests.benchmarks dms``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid

PAIRS = 10
MESSAGES_PER_PAIR = 100
RECEIVE_TIMEOUT_SECONDS = 10.0
# Goals on the local stack, where every handler's ~10 requests queue for one serialised moto:
# the contract's "delivered within 5 s" at p99 under 10 concurrent pairs.
P50_GOAL_MS = 2000.0
P99_GOAL_MS = 5000.0
# Beside it, one pair alone: the latency of a send with nothing queued in front of it.
SOLO_MESSAGES = 50


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _pair(ws_url: str, sender, recipient, latencies: list[float], messages: int = MESSAGES_PER_PAIR) -> int:  # type: ignore[no-untyped-def]  # fmt: skip
    import websockets

    lost = 0
    async with (
        websockets.connect(f"{ws_url}/?token={sender.token}", open_timeout=10) as out,
        websockets.connect(f"{ws_url}/?token={recipient.token}", open_timeout=10) as into,
    ):
        # Read the sender's acks as they come: an unread socket stops answering pings.
        acks = asyncio.create_task(_drain(out))
        for number in range(messages):
            client_id = str(uuid.uuid4())
            frame = {"action": "send", "to": recipient.user_id, "text": f"m{number}", "client_id": client_id}  # fmt: skip
            started = time.perf_counter()
            await out.send(json.dumps(frame))
            deadline = started + RECEIVE_TIMEOUT_SECONDS
            while True:  # bounded by the deadline
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    lost += 1
                    break
                try:
                    received = json.loads(await asyncio.wait_for(into.recv(), remaining))
                except TimeoutError:
                    lost += 1
                    break
                if (
                    received.get("type") == "message"
                    and received["message"]["text"] == f"m{number}"
                ):
                    latencies.append((time.perf_counter() - started) * 1000)
                    break
        acks.cancel()
    return lost


async def _drain(socket) -> None:  # type: ignore[no-untyped-def]
    async for _ in socket:
        pass


async def _talk(ws_url: str, pairs: list, latencies: list[float]) -> int:  # type: ignore[type-arg]
    lost = await asyncio.gather(*(_pair(ws_url, a, b, latencies) for a, b in pairs))
    return sum(lost)


def run() -> bool:
    from tests.e2e.conftest import start_stack, stop_stack

    stack = start_stack({"POWERTOOLS_LOG_LEVEL": "WARNING"})
    try:
        pairs = [(stack.sign_up("dma"), stack.sign_up("dmb")) for _ in range(PAIRS)]
        solo: list[float] = []
        asyncio.run(_pair(stack.ws_url, *pairs[0], solo, SOLO_MESSAGES))
        latencies: list[float] = []
        started = time.perf_counter()
        lost = asyncio.run(_talk(stack.ws_url, pairs, latencies))
        elapsed = time.perf_counter() - started
    finally:
        stop_stack(stack)

    total = PAIRS * MESSAGES_PER_PAIR
    p50 = statistics.median(latencies) if latencies else float("inf")
    p99 = _percentile(latencies, 0.99) if latencies else float("inf")
    print(f"\ndms: {PAIRS} pairs x {MESSAGES_PER_PAIR} messages over WebSockets on the local stack")
    print(f"  {'delivered':<12}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'msg/s':>10}")
    print(
        f"  {len(latencies):<12}{p50:>10.1f}{p99:>10.1f}{max(latencies, default=0):>10.1f}"
        f"{len(latencies) / elapsed:>10.1f}"
    )
    print(
        f"  one pair alone ({SOLO_MESSAGES} messages): p50 {statistics.median(solo):.1f} ms, "
        f"p99 {_percentile(solo, 0.99):.1f} ms"
    )
    goals = {
        f"all {total} messages delivered (lost: {lost})": len(latencies) == total and lost == 0,
        f"p50 under {P50_GOAL_MS:.0f} ms": p50 < P50_GOAL_MS,
        f"p99 under {P99_GOAL_MS:.0f} ms": p99 < P99_GOAL_MS,
    }
    for goal, met in goals.items():
        print(f"  {'PASS' if met else 'FAIL'}  {goal}")
    return all(goals.values())
