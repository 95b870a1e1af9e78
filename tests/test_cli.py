"""The command line: bad settings, busy ports and unwritable data dirs end with one clear line, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from broker import __version__
from broker.config import ConfigError, load_settings
from tests.server import ROOT


def _broker(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "broker", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def _one_error_line(proc: subprocess.CompletedProcess, phrase: str) -> None:
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("broker: error:") and phrase in lines[0], lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_version():
    proc = _broker("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"broker {__version__}"


def test_bad_setting_from_flag(tmp_path):
    _one_error_line(_broker("serve", "--port", "70000", "--data-dir", str(tmp_path)), "port")


def test_bad_setting_from_env(tmp_path):
    proc = _broker("serve", "--data-dir", str(tmp_path), env={"BROKER_WORKERS": "many"})
    _one_error_line(proc, "workers")


def test_bad_config_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('default_account = "12"\n')
    _one_error_line(_broker("serve", "--config", str(cfg)), "default_account")
    cfg.write_text("not toml at all [")
    _one_error_line(_broker("serve", "--config", str(cfg)), "not valid TOML")
    _one_error_line(_broker("serve", "--config", str(tmp_path / "missing.toml")), "cannot read config file")


def test_port_in_use(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        _one_error_line(_broker("serve", "--port", str(port), "--data-dir", str(tmp_path)), f"127.0.0.1:{port}")


def test_data_dir_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    _one_error_line(_broker("serve", "--data-dir", str(f)), "data dir")


def test_unreachable_database(tmp_path):
    proc = _broker("serve", "--db-url", "postgresql://nobody@127.0.0.1:1/none")
    _one_error_line(proc, "database")


def test_db_upgrade_is_idempotent(tmp_path):
    for _ in range(2):
        proc = _broker("db", "upgrade", "--data-dir", str(tmp_path))
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "broker.db").exists()


def test_precedence_file_then_env_then_flags(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('port = 1111\nworkers = 3\ndefault_region = "eu-west-1"\n')
    s = load_settings(str(cfg), {"port": 3333}, environ={"BROKER_WORKERS": "2"})
    assert (s.port, s.workers, s.default_region) == (3333, 2, "eu-west-1")
    with pytest.raises(ConfigError):
        load_settings(None, {}, environ={"BROKER_DURABILITY": "sometimes"})


def test_sqlite_db_url_in_a_new_directory(tmp_path):
    target = tmp_path / "new" / "deeper" / "b.db"
    proc = _broker("db", "upgrade", "--db-url", f"sqlite:///{target}")
    assert proc.returncode == 0, proc.stderr
    assert target.exists()
