"""`broker lambda install-runtimes`: the runtime packages functions expect, installed once per machine.

For each Python version this machine runs (interpreters.discovered_pythons, plus the broker's own), awslambdaric and
boto3 go to `<runtimes dir>/python/cp3X` with the broker's pip (`--python-version 3.X --only-binary=:all:`), then
are byte-compiled by that version's interpreter (functions run with PYTHONDONTWRITEBYTECODE, so cold starts must
not compile boto3). The AWS SDK for JavaScript v3 clients a function typically uses go to `<runtimes dir>/node`
with npm. A stamp file per target keeps a second run instant; `--force` reinstalls.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from broker.config import Settings
from broker.services.lambda_.execution import interpreters

# awslambdaric 4.2 needs Python >= 3.10 and boto3 left 3.9 after 1.42: 3.9 keeps the last releases it had.
PYTHON_PACKAGES: dict[str, tuple[str, ...]] = {"3.9": ("awslambdaric==4.0.4", "boto3==1.42.97")}
PYTHON_DEFAULT = ("awslambdaric==4.2.2", "boto3==1.44.18")
# Pinned releases of the AWS SDK for JavaScript v3 (clients are released on their own: versions differ).
NODE_PACKAGES = (
    "@aws-sdk/client-sqs@3.1178.0",
    "@aws-sdk/client-sns@3.1178.0",
    "@aws-sdk/client-kinesis@3.1143.0",
    "@aws-sdk/client-lambda@3.1178.0",
    "@aws-sdk/client-s3@3.1178.0",
    "@aws-sdk/client-sts@3.1178.0",
    "@aws-sdk/client-dynamodb@3.1178.0",
    "@aws-sdk/client-cloudwatch-logs@3.1178.0",
    "@aws-sdk/client-iam@3.1178.0",
    "@aws-sdk/client-eventbridge@3.1178.0",
    "@aws-sdk/lib-dynamodb@3.1178.0",
)
STAMP = ".broker-installed"


class InstallError(Exception):
    pass


def python_targets(settings: Settings) -> dict[str, str]:
    """Python version -> the interpreter that byte-compiles its packages."""
    targets = interpreters.discovered_pythons(settings)
    targets.setdefault(interpreters.OWN_VERSION, sys.executable)
    return dict(sorted(targets.items(), key=lambda item: tuple(int(p) for p in item[0].split("."))))


def install(settings: Settings, *, force: bool = False, node: bool = True, say: Callable[[str], None] = print) -> None:
    """Installs what is missing; raises InstallError naming the step that failed."""
    root = interpreters.runtimes_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    for version, interpreter in python_targets(settings).items():
        packages = PYTHON_PACKAGES.get(version, PYTHON_DEFAULT)
        target = interpreters.python_site(settings, version)
        if not force and _stamped(target, packages):
            say(f"python {version}: up to date in {target}")
            continue
        say(f"python {version}: installing {' '.join(packages)} into {target}")
        staging = target.with_name(target.name + ".staging")
        shutil.rmtree(staging, ignore_errors=True)
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                "--target",
                str(staging),
                "--python-version",
                version,
                "--only-binary=:all:",
                *packages,
            ],
            f"pip install for Python {version}",
        )
        # Byte-compiling is a speed-up only: a failure leaves the packages usable.
        subprocess.run(
            [interpreter, "-m", "compileall", "-q", "-j", "0", str(staging)], check=False, capture_output=True
        )
        (staging / STAMP).write_text("\n".join(packages) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    if node:
        _install_node(root / "node", force, say)


def _install_node(target: Path, force: bool, say: Callable[[str], None]) -> None:
    if not force and _stamped(target, NODE_PACKAGES):
        say(f"node: up to date in {target}")
        return
    npm = shutil.which("npm")
    if npm is None:
        say("node: npm not found, the AWS SDK for JavaScript is not installed (nodejs functions cannot import it)")
        return
    say(f"node: installing the AWS SDK for JavaScript v3 ({len(NODE_PACKAGES)} packages) into {target}")
    target.mkdir(parents=True, exist_ok=True)
    (target / STAMP).unlink(missing_ok=True)
    _run(
        [npm, "install", "--prefix", str(target), "--no-audit", "--no-fund", "--loglevel=error", *NODE_PACKAGES],
        "npm install",
    )
    (target / STAMP).write_text("\n".join(NODE_PACKAGES) + "\n")


def _stamped(target: Path, packages: tuple[str, ...]) -> bool:
    try:
        return (target / STAMP).read_text() == "\n".join(packages) + "\n"
    except OSError:
        return False


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise InstallError(f"{what} failed: {detail[-1] if detail else f'exit status {done.returncode}'}")
