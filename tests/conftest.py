"""Fixtures: a real broker process per backend (SQLite always, PostgreSQL when reachable; required on CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.server import BrokerServer

PG_URL = os.environ.get("BROKER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CI = os.environ.get("CI", "").lower() == "true"


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)


def _pg_reachable() -> str | None:
    try:
        with _pg_admin():
            return None
    except Exception as e:  # noqa: BLE001
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


class PgDatabases:
    """Creates fresh PostgreSQL databases for a test run and drops them afterwards."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self) -> str:
        name = f"broker_test_{uuid.uuid4().hex[:10]}"
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        base, _, _ = PG_URL.rpartition("/")
        return f"{base}/{name}"

    def drop_all(self) -> None:
        for name in self.created:
            try:
                with _pg_admin() as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception:  # noqa: BLE001
                pass


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    why = _pg_reachable()
    if why is not None:
        if CI:
            pytest.fail(f"PostgreSQL at {PG_URL} is required on CI but unreachable: {why}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {why}")
    dbs = PgDatabases()
    yield dbs
    dbs.drop_all()


# The modules whose PostgreSQL half `make test` runs: storage under concurrency, crashes and restarts, several workers
# and nodes on one database — where the two databases differ (locking, isolation, LISTEN/NOTIFY, lost connections).
# The other modules' SQL is the same on both (one dialect-neutral statement, or a branch these modules also take):
# make test runs them on SQLite only, to stay within its time; `make soak` (BROKER_TEST_BACKENDS=all) runs every
# PostgreSQL half. Kill -9 resumes whose state is claimed rows like those of the modules kept here (SNS replays, event
# source checkpoints, scheduler firings) run on PostgreSQL in make soak only.
PG_IN_MAKE_TEST = {
    "tests/reliability/test_crash_rounds.py",
    "tests/reliability/test_durability.py",
    "tests/reliability/test_fifo_workers.py",
    "tests/reliability/test_move_task_crash.py",
    "tests/reliability/test_races.py",
    "tests/reliability/test_timers_restart.py",
    "tests/reliability/test_workers.py",
    "tests/auth/test_iam_keys.py",
    "tests/events/test_delivery.py",
    "tests/events/test_scheduled_rules.py",
    "tests/kinesis/test_records.py",
    "tests/kinesis/test_workers.py",
    "tests/logs/test_events.py",
    "tests/operating/test_startup_resources.py",
    "tests/apigateway/test_usage_plans.py",
    "tests/lambda_/test_async.py",
    "tests/lambda_/test_concurrency.py",
    "tests/lambda_/test_sqs_source.py",
    "tests/sns/test_http.py",
    "tests/sqs/test_fifo.py",
    "tests/sqs/test_messages.py",
}


def _on_pg(item: pytest.Item) -> bool:
    spec = getattr(item, "callspec", None)
    return item.get_closest_marker("pg") is not None or (spec is not None and spec.params.get("backend") == "pg")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselects the PostgreSQL halves of the modules not in PG_IN_MAKE_TEST, unless BROKER_TEST_BACKENDS=all."""
    if os.environ.get("BROKER_TEST_BACKENDS") == "all":
        return
    kept, dropped = [], []
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        (dropped if _on_pg(item) and module not in PG_IN_MAKE_TEST else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _backends() -> list:
    return ["sqlite", pytest.param("pg", marks=pytest.mark.pg)]


@pytest.fixture(scope="session", params=_backends())
def backend(request) -> str:
    return request.param


def serve(
    request: pytest.FixtureRequest, backend: str, name: str, start_timeout: float = 90, **kw
) -> Iterator[BrokerServer]:
    """For a module- or session-scoped server fixture to `yield from`: a broker on `backend` (its data under a
    fresh "<name>-<backend>" directory, on "pg" a fresh database; `kw` as BrokerServer takes), stopped after."""
    data = request.getfixturevalue("tmp_path_factory").mktemp(f"{name}-{backend}")
    db_url = request.getfixturevalue("pg_databases").create() if backend == "pg" else None
    server = BrokerServer(data / "data", db_url=db_url, **kw).start(start_timeout)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_server(backend, request) -> Iterator[BrokerServer]:
    """One broker per backend for the whole session; tests isolate themselves with reset()."""
    yield from serve(request, backend, "broker")


@pytest.fixture
def broker(shared_server: BrokerServer) -> BrokerServer:
    shared_server.reset()
    return shared_server


@pytest.fixture
def sqs(broker: BrokerServer):
    return broker.client("sqs")


@pytest.fixture
def server_factory(tmp_path, request) -> Iterator:
    """Start extra brokers (own data dir or own PG database) that are stopped after the test."""
    servers: list[BrokerServer] = []

    def make(backend: str = "sqlite", workers: int = 1, db_url: str | None = None, data_dir=None, **kw) -> BrokerServer:
        if backend == "pg" and db_url is None:
            db_url = request.getfixturevalue("pg_databases").create()
        server = BrokerServer(data_dir or (tmp_path / f"data{len(servers)}"), db_url=db_url, workers=workers, **kw)
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.kill()
