"""Which program runs each runtime on this machine, and where `broker lambda install-runtimes` put the runtime
packages (awslambdaric + boto3 per Python version, the AWS SDK for JavaScript v3)."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from broker.config import Settings

PYTHON_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")
NODE_RUNTIMES = ("nodejs18.x", "nodejs20.x", "nodejs22.x")
PROVIDED_RUNTIMES = ("provided.al2", "provided.al2023")
OWN_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def runtimes_dir(settings: Settings) -> Path:
    """`lambda_runtimes_dir`, by default `<venv>/lambda-runtimes` (next to the broker's own interpreter)."""
    return Path(settings.lambda_runtimes_dir or Path(sys.prefix) / "lambda-runtimes").resolve()


def python_site(settings: Settings, version: str) -> Path:
    """The install-runtimes target of one Python version ("3.12" -> <dir>/python/cp312)."""
    return runtimes_dir(settings) / "python" / ("cp" + version.replace(".", ""))


def node_modules(settings: Settings) -> Path:
    return runtimes_dir(settings) / "node" / "node_modules"


@dataclass(frozen=True)
class PythonChoice:
    executable: str
    version: str  # the interpreter's "3.X"
    site: Path | None  # install-runtimes' directory for that version, when present
    note: str | None  # the line the function's log gets when the runtime does not run as asked


def choose_python(settings: Settings, runtime: str) -> PythonChoice:
    wanted = runtime.removeprefix("python")
    configured = settings.lambda_python_interpreters.get(runtime)
    found = configured or discover_python(wanted)
    site = python_site(settings, wanted)
    if found and (site.is_dir() or configured):
        return PythonChoice(found, wanted, site if site.is_dir() else None, None)
    if wanted == OWN_VERSION:
        # The broker's interpreter has awslambdaric (a dependency of the broker).
        return PythonChoice(sys.executable, wanted, site if site.is_dir() else None, None)
    own_site = python_site(settings, OWN_VERSION)
    why = "no interpreter found" if not found else f"nothing installed for it in {site.parent}"
    return PythonChoice(
        sys.executable,
        OWN_VERSION,
        own_site if own_site.is_dir() else None,
        f"broker: {runtime} runs on the broker's own Python {OWN_VERSION} ({sys.executable}): {why} "
        "(see `broker lambda install-runtimes`)",
    )


@functools.cache
def discover_python(version: str) -> str | None:
    """A python<version> program: on PATH (pyenv shims skipped: they may refuse a version that is not selected),
    else the newest pyenv build of that version."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or "shims" in Path(folder).parts:
            continue
        candidate = Path(folder) / f"python{version}"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    builds = []
    if root.is_dir():
        for entry in root.iterdir():
            match = re.fullmatch(rf"{re.escape(version)}\.(\d+)", entry.name)
            exe = entry / "bin" / f"python{version}"
            if match and exe.is_file():
                builds.append((int(match.group(1)), str(exe)))
    return max(builds)[1] if builds else None


def discovered_pythons(settings: Settings) -> dict[str, str]:
    """Python version ("3.12") -> interpreter, for every Python runtime this machine can run as asked."""
    out: dict[str, str] = {}
    for runtime in PYTHON_RUNTIMES:
        version = runtime.removeprefix("python")
        found = settings.lambda_python_interpreters.get(runtime) or discover_python(version)
        if found:
            out[version] = found
    return out


@functools.cache
def node_binary(configured: str) -> str | None:
    if os.sep in configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which(configured)


@functools.cache
def node_version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()
