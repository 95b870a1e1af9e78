"""A real broker server process for tests: start, stop, kill -9, restart on the same data, clients."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent


# One boto3 session for every client of the test process: a session parses botocore's models and endpoint data
# anew (~0.1 s of CPU per client), a shared one once. Credentials and region go to each client; creating clients
# from one session is not thread-safe, hence the lock.
_SESSION = boto3.session.Session()
_SESSION_LOCK = threading.Lock()


def make_client(
    service: str,
    endpoint_url: str,
    access_key: str,
    secret: str,
    region: str = "us-east-1",
    config: Config | None = None,
    session_token: str | None = None,
) -> Any:
    """A boto3 client of the shared session (each client has its own connection pool)."""
    with _SESSION_LOCK:
        return _SESSION.client(
            service,
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret,
            aws_session_token=session_token,
            region_name=region,
            config=config,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerServer:
    def __init__(
        self,
        data_dir: Path,
        db_url: str | None = None,
        workers: int = 1,
        port: int | None = None,
        env: dict[str, str] | None = None,
        credentials: tuple[str, str] | None = None,
        admin_token: str | None = None,
    ) -> None:
        """`credentials` (access key id, secret) sign `client()`s and `admin_token` authorizes `admin()` calls,
        for a broker started with auth = "sigv4" (its keys and token given in `env`)."""
        self.data_dir = Path(data_dir)
        self.db_url = db_url
        self.workers = workers
        self.port = port or free_port()
        self.env = env or {}
        self.credentials = credentials
        self.admin_token = admin_token
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir.parent / f"broker-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> BrokerServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "broker",
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--test-mode",
        ]
        cmd += ["--db-url", self.db_url] if self.db_url else ["--data-dir", str(self.data_dir)]
        env = {
            **os.environ,
            "BROKER_LOG_LEVEL": "warning",
            "BROKER_LEASE_TTL_SECONDS": "2",
            "BROKER_SWEEP_INTERVAL_SECONDS": "1",
            # On PostgreSQL too: what is not in the database (function code, metrics files) stays in the test's dir.
            "BROKER_DATA_DIR": str(self.data_dir),
            **self.env,
        }
        env.pop("BROKER_CONFIG", None)
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return self._wait_started(timeout)
        except BaseException:
            self.kill()  # a start that failed or was interrupted leaves no process behind
            raise

    def _wait_started(self, timeout: float) -> BrokerServer:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        pids = set()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                r = httpx.get(self.url + "/_broker/health", timeout=1)
                if r.status_code == 200:
                    pids.add(r.json()["pid"])
                    if len(pids) >= min(self.workers, 1) and self._all_workers_up(pids):
                        return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"broker did not start: {self.log_path.read_text()[-2000:]}")

    def _all_workers_up(self, pids: set[int]) -> bool:
        if self.workers == 1:
            return True
        # Each worker answers health once its lifespan finished; wait until N distinct pids answered.
        for _ in range(200):
            if len(pids) >= self.workers:
                return True
            try:
                pids.add(httpx.get(self.url + "/_broker/health", timeout=1).json()["pid"])
            except httpx.HTTPError:
                time.sleep(0.02)
        return len(pids) >= self.workers

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def restart(self) -> BrokerServer:
        self.kill()
        return self.start()

    # -- helpers for tests ---------------------------------------------------------------------------------
    def client(
        self,
        service: str = "sqs",
        region: str = "us-east-1",
        access_key: str = "test",
        protocol: str | None = None,
        secret: str | None = None,
        **config,
    ) -> object:
        config.setdefault("retries", {"max_attempts": 1, "mode": "standard"})
        cfg = Config(**config)
        if self.credentials and access_key == "test" and secret is None:
            access_key, secret = self.credentials
        return make_client(service, self.url, access_key, secret or "secret", region, cfg)

    def admin(self, method: str, path: str, **kw) -> dict:
        if self.admin_token:
            kw["headers"] = {"Authorization": f"Bearer {self.admin_token}", **kw.get("headers", {})}
        r = httpx.request(method, self.url + path, timeout=30, **kw)
        r.raise_for_status()
        return r.json()

    def reset(self) -> None:
        self.admin("POST", "/_broker/reset")

    def advance(self, seconds: float) -> None:
        self.admin("POST", "/_broker/clock", json={"advance_seconds": seconds})

    def run_job(self, name: str) -> dict:
        return self.admin("POST", f"/_broker/jobs/{name}/run")


def drain(client, url: str, max_batches: int = 100_000) -> list[str]:
    """Receive and delete everything in a queue; the bodies, in the order received."""
    bodies: list[str] = []
    for _ in range(max_batches):
        msgs = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get("Messages", [])
        if not msgs:
            return bodies
        bodies.extend(m["Body"] for m in msgs)
        client.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
        )
    raise AssertionError("queue never drained")
