"""Where the worker processes write their metric files (prometheus_client's multiprocess mode).

prometheus_client decides at import whether values live in memory or in per-process mmap files, by whether
PROMETHEUS_MULTIPROC_DIR is set: `broker serve` sets it before anything imports the library, and its workers
inherit it. This module therefore imports nothing of prometheus_client."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(state_dir: str, port: int) -> str:
    """A fresh, empty `<state_dir>/metrics-<port>` (the files of a previous run would add to this run's counters),
    exported to the worker processes; a private temporary directory when the state dir cannot hold it. The port
    keeps apart two brokers that share a directory (PostgreSQL nodes on one host)."""
    path = Path(state_dir) / f"metrics-{port}"
    try:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        chosen = str(path)
    except OSError:
        chosen = tempfile.mkdtemp(prefix="broker-metrics-")
    os.environ[ENV] = chosen
    return chosen


def remove(path: str) -> None:
    """The workers have stopped: their files go with them."""
    shutil.rmtree(path, ignore_errors=True)


def enabled() -> bool:
    """Whether this process writes its metrics to files that every worker's scrape reads."""
    return bool(os.environ.get(ENV))
