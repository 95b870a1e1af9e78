"""Running wrk with a Lua script and reading back one JSON line of results."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

DONE = r"""
local threads = {}
-- Each thread gets its own "tid": scripts use it to keep ids (e.g. FIFO deduplication ids) unique across threads.
setup = function(thread) table.insert(threads, thread); thread:set("tid", #threads) end
done = function(summary, latency, requests)
  local items = 0
  for _, t in ipairs(threads) do items = items + (t:get("items") or 0) end
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,'
    .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"items":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), items))
end
"""


def require_wrk() -> str:
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("broker bench needs wrk: apt-get install wrk (or run `make bench`)")
    return path


def run_wrk(url: str, script: str, duration: float, connections: int, threads: int = 2) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "script.lua"
        path.write_text(script + DONE)
        proc = subprocess.run(
            [
                require_wrk(),
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{max(1, round(duration))}s",
                "--timeout",
                "30s",
                "-s",
                str(path),
                url,
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise SystemExit(f"wrk failed: {proc.stderr or proc.stdout}")
        out = proc.stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line[len("RESULT ") :])
    seconds = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / seconds
    result["items_per_s"] = result["items"] / seconds
    return result


def report(args: argparse.Namespace, results: dict[str, Any]) -> int:
    """Print a benchmark's results as JSON and write them to --out, if given."""
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0
