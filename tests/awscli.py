"""The AWS CLI (installed with the dev extras) run against a broker, with no configuration of the user's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def aws_cli() -> list[str] | None:
    """The command of the venv's AWS CLI, else the PATH's; None if neither exists."""
    local = Path(sys.executable).parent / "aws"
    if local.exists():
        return [str(local)]
    found = shutil.which("aws")
    return [found] if found else None


MISSING = aws_cli() is None and not os.environ.get("CI")  # for skipif: CI must have it


def run_aws(
    url: str, tmp_path: Path, *args: str, key: str = "test", secret: str = "test", region: str = "us-east-1"
) -> subprocess.CompletedProcess[str]:
    """`aws --endpoint-url <url> --output json <args>` in tmp_path, with these credentials and no config files."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    cli = aws_cli()
    assert cli is not None, "the AWS CLI is not installed"
    cmd = [*cli, "--endpoint-url", url, "--output", "json", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)


def aws_json(url: str, tmp_path: Path, *args: str, **kw: str) -> dict:
    """run_aws that must succeed: its JSON answer ({} when it prints nothing)."""
    done = run_aws(url, tmp_path, *args, **kw)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}
