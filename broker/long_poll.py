"""The long-poll loop of receives (SQS ReceiveMessage, Kinesis queue receives): watch, look, sleep until woken."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from broker import clock
from broker.notify import Notifier, Watch

T = TypeVar("T")


async def long_poll(
    notifier: Notifier,
    keys: Callable[[], Awaitable[Iterable[str]]],
    attempt: Callable[[], Awaitable[T]],
    wait_s: float,
    recheck_s: float,
    next_due: Callable[[], Awaitable[int | None]],
) -> T:
    """Call `attempt` until it returns something truthy or `wait_s` passed, and return its last result.

    Between attempts it sleeps until a commit wakes one of `keys` (in any process), at most `recheck_s` (the safety
    net), and no later than `next_due` (epoch ms on the broker's clock when something becomes visible by itself)."""
    deadline = time.monotonic() + wait_s
    while True:
        # Watch first, then look: a commit that lands in between still wakes us.
        with Watch(notifier, await keys()) as watch:
            got = await attempt()
            remaining = deadline - time.monotonic()
            if got or remaining <= 0:
                return got
            timeout = min(remaining, recheck_s)
            due = await next_due()
            if due is not None:
                timeout = min(timeout, max(0.0, (due - clock.now_ms()) / 1000) + 0.001)
            await watch.wait(timeout)
