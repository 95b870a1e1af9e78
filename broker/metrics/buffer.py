"""Counts recorded on hot paths, applied to prometheus_client's values in batches.

Each increment of a multiprocess value takes a lock, checks the pid and writes the process's mmap file: a request
made about seven of them (its counter and histogram, the writer batch's two histograms), 12% of the CPU of a
SendMessage. Recording here costs a dict update under an uncontended lock; one thread per process applies what
accumulated at most FLUSH_S later (and a scrape first flushes its own process), so a scrape sees a worker's counts
within FLUSH_S. An idle process has nothing to flush and its thread sleeps on an event.

Histograms are applied through prometheus_client's Histogram internals (`_upper_bounds`, `_sum`, `_buckets`: what
its own `observe` uses); tests/metrics checks the rendered series.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from bisect import bisect_left
from typing import Any

log = logging.getLogger("broker.metrics")

FLUSH_S = 0.5

_lock = threading.Lock()
_counts: dict[Any, float] = {}  # a Counter's child -> amount to add
_observed: dict[Any, list[Any]] = {}  # a Histogram's child -> [sum, [count per bucket]]
_dirty = threading.Event()
_flusher: threading.Thread | None = None


def inc(child: Any, amount: float = 1.0) -> None:
    """Add `amount` to a Counter child."""
    with _lock:
        _counts[child] = _counts.get(child, 0.0) + amount
    _mark()


def observe(child: Any, value: float) -> None:
    """Observe `value` in a Histogram child (the bucket of the first upper bound >= value, as `observe` does)."""
    with _lock:
        acc = _observed.get(child)
        if acc is None:
            acc = _observed[child] = [0.0, [0] * len(child._upper_bounds)]
        acc[0] += value
        acc[1][bisect_left(child._upper_bounds, value)] += 1
    _mark()


def flush() -> None:
    """Apply what accumulated (on the flusher thread; and by a scrape, before it reads the files)."""
    global _counts, _observed
    with _lock:
        counts, observed = _counts, _observed
        _counts, _observed = {}, {}
        _dirty.clear()
    for child, amount in counts.items():
        child.inc(amount)
    for child, (total, buckets) in observed.items():
        child._sum.inc(total)
        for bucket, n in zip(child._buckets, buckets, strict=True):
            if n:
                bucket.inc(n)


def _mark() -> None:
    if not _dirty.is_set():
        _dirty.set()
        _ensure_flusher()


def _ensure_flusher() -> None:
    global _flusher
    if _flusher is not None:
        return
    with _lock:
        if _flusher is None:
            _flusher = threading.Thread(target=_flush_loop, name="broker-metrics", daemon=True)
            _flusher.start()
            atexit.register(flush)  # a worker that stops keeps what it counted last


def _flush_loop() -> None:
    while True:
        _dirty.wait()
        time.sleep(FLUSH_S)  # what arrives meanwhile goes with this flush
        try:
            flush()
        except Exception:  # e.g. a full disk: these counts are lost, later ones are tried again
            log.exception("metrics: counts could not be written")
