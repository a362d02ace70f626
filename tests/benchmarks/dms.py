"""Direct messages on the local stack: send-to-receive latency over real WebSockets.

Starts the local stack as ``make run`` does (its own free loopback ports), signs up 10 pairs
and connects both members of each pair. Latency is from the moment a message is due to be
sent to the moment the recipient's ``message`` frame is read: API Gateway's ``$default``
event, the handler's transaction on the embedded AWS, and the push through the management
API. Three runs:

- **one pair alone**, each message sent once the previous one arrived: a send with nothing
  queued in front of it.
- **10 pairs talking** (the goal): 1,000 messages, each pair sending every
  ``1 / RATE_PER_PAIR`` seconds on its own schedule (open loop: a late message does not
  delay the next one, so queueing shows in the figures instead of hiding in a slower send
  rate), the pairs' schedules spread evenly. 2 messages a second per pair is far above
  what people type, and 20 a second in all is about a third of what the local stack can
  carry on two cores.
- **10 pairs flat out**, each sending its next message the moment the previous one
  arrived: the local stack's capacity, and the latency when everything queues.

On AWS each invocation runs in its own Lambda; here the handlers share one process and moto
(in a process of its own) serialises every request, so the figures compare runs on one
machine.

Run with ``python -m tests.benchmarks dms``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

PAIRS = 10
MESSAGES_PER_PAIR = 100
RATE_PER_PAIR = 2.0  # messages a second
RECEIVE_TIMEOUT_SECONDS = 10.0
SOLO_MESSAGES = 50
# The local target, for 10 pairs talking.
TALKING_P99_GOAL_MS = 100.0
# The contract's "delivered within 5 s", even flat out.
FLAT_OUT_P99_GOAL_MS = 5000.0


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    elapsed: float = 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("inf")

    @property
    def p99(self) -> float:
        return _percentile(self.latencies, 0.99) if self.latencies else float("inf")

    def row(self, name: str) -> str:
        rate = len(self.latencies) / self.elapsed if self.elapsed else 0.0
        worst = max(self.latencies, default=0.0)
        return (
            f"  {name:<22}{len(self.latencies):>10}{self.p50:>10.1f}{self.p99:>10.1f}"
            f"{worst:>10.1f}{rate:>10.1f}"
        )


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _send_frame(recipient: Any, text: str) -> str:
    return json.dumps(
        {"action": "send", "to": recipient.user_id, "text": text, "client_id": str(uuid.uuid4())}
    )


async def _drain(socket: Any) -> None:
    async for _ in socket:
        pass


async def _closed_loop(ws_url: str, sender: Any, recipient: Any, messages: int, run: Run) -> None:
    """Send, wait for the recipient to read it, send the next."""
    import websockets

    async with (
        websockets.connect(f"{ws_url}/?token={sender.token}", open_timeout=10) as out,
        websockets.connect(f"{ws_url}/?token={recipient.token}", open_timeout=10) as into,
    ):
        # Read the sender's acks as they come: an unread socket stops answering pings.
        acks = asyncio.create_task(_drain(out))
        for number in range(messages):
            text = f"m{number}"
            started = time.perf_counter()
            await out.send(_send_frame(recipient, text))
            arrived = await _arrival(into, text, started + RECEIVE_TIMEOUT_SECONDS)
            if arrived is None:
                run.lost += 1
            else:
                run.latencies.append((arrived - started) * 1000)
        acks.cancel()


async def _arrival(socket: Any, text: str, deadline: float) -> float | None:
    while (remaining := deadline - time.perf_counter()) > 0:
        try:
            frame = json.loads(await asyncio.wait_for(socket.recv(), remaining))
        except TimeoutError:
            return None
        if frame.get("type") == "message" and frame["message"]["text"] == text:
            return time.perf_counter()
    return None


async def _paced(
    ws_url: str, sender: Any, recipient: Any, first_due: float, interval: float, run: Run
) -> None:
    """Send on a fixed schedule from ``first_due``; a reader times each arrival."""
    import websockets

    due_at: dict[str, float] = {}
    arrived_at: dict[str, float] = {}
    all_arrived = asyncio.Event()

    async def read(into: Any) -> None:
        async for raw in into:
            frame = json.loads(raw)
            if frame.get("type") == "message":
                arrived_at.setdefault(frame["message"]["text"], time.perf_counter())
                if len(arrived_at) == MESSAGES_PER_PAIR:
                    all_arrived.set()

    async with (
        websockets.connect(f"{ws_url}/?token={sender.token}", open_timeout=10) as out,
        websockets.connect(f"{ws_url}/?token={recipient.token}", open_timeout=10) as into,
    ):
        acks, reader = asyncio.create_task(_drain(out)), asyncio.create_task(read(into))
        for number in range(MESSAGES_PER_PAIR):
            due = first_due + number * interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            text = f"m{number}"
            due_at[text] = due  # measured from when it was due: a late send counts as late
            await out.send(_send_frame(recipient, text))
        try:
            await asyncio.wait_for(all_arrived.wait(), RECEIVE_TIMEOUT_SECONDS)
        except TimeoutError:
            pass  # what did not arrive counts as lost
        acks.cancel()
        reader.cancel()
    for text, due in due_at.items():
        if text in arrived_at:
            run.latencies.append((arrived_at[text] - due) * 1000)
        else:
            run.lost += 1


async def _talking(ws_url: str, pairs: list[tuple[Any, Any]]) -> Run:
    run, interval = Run(), 1.0 / RATE_PER_PAIR
    start = time.perf_counter() + 1.0  # every socket open before the first message is due
    spread = interval / len(pairs)
    began = time.perf_counter()
    await asyncio.gather(
        *(
            _paced(ws_url, a, b, start + index * spread, interval, run)
            for index, (a, b) in enumerate(pairs)
        )
    )
    run.elapsed = time.perf_counter() - began - 1.0
    return run


async def _flat_out(ws_url: str, pairs: list[tuple[Any, Any]], messages: int) -> Run:
    run = Run()
    began = time.perf_counter()
    await asyncio.gather(*(_closed_loop(ws_url, a, b, messages, run) for a, b in pairs))
    run.elapsed = time.perf_counter() - began
    return run


def run() -> bool:
    from tests.e2e.conftest import start_stack, stop_stack

    stack = start_stack({"POWERTOOLS_LOG_LEVEL": "WARNING"})
    try:
        pairs = [(stack.sign_up("dma"), stack.sign_up("dmb")) for _ in range(PAIRS)]
        asyncio.run(_flat_out(stack.ws_url, pairs, 5))  # warm every handler path first
        solo = asyncio.run(_flat_out(stack.ws_url, pairs[:1], SOLO_MESSAGES))
        talking = asyncio.run(_talking(stack.ws_url, pairs))
        flat_out = asyncio.run(_flat_out(stack.ws_url, pairs, MESSAGES_PER_PAIR))
    finally:
        stop_stack(stack)

    total = PAIRS * MESSAGES_PER_PAIR
    print(f"\ndms: send-to-receive over WebSockets on the local stack ({PAIRS} pairs)")
    print(f"  {'':<22}{'delivered':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'msg/s':>10}")
    print(solo.row("one pair alone"))
    print(talking.row(f"talking, {RATE_PER_PAIR:g}/s a pair"))
    print(flat_out.row("flat out"))
    goals = {
        f"talking: all {total} delivered (lost: {talking.lost})": (
            len(talking.latencies) == total and talking.lost == 0
        ),
        f"talking: p99 under {TALKING_P99_GOAL_MS:.0f} ms": talking.p99 < TALKING_P99_GOAL_MS,
        f"flat out: all {total} delivered (lost: {flat_out.lost})": (
            len(flat_out.latencies) == total and flat_out.lost == 0
        ),
        f"flat out: p99 under {FLAT_OUT_P99_GOAL_MS:.0f} ms": flat_out.p99 < FLAT_OUT_P99_GOAL_MS,
    }
    for goal, met in goals.items():
        print(f"  {'PASS' if met else 'FAIL'}  {goal}")
    return all(goals.values())
