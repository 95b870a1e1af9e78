"""Crash rounds: a mixed SQS / SNS / Kinesis load against `--workers 2`, SIGKILLed at a random moment of every
round and restarted on the same data; after each round and at the end, what was acknowledged is checked
(tests/reliability/crash_rounds.py). `make test` runs 5 rounds per backend; `make soak` runs 50
(BROKER_CRASH_ROUNDS)."""

from __future__ import annotations

import os
import random
import subprocess

import psycopg
import pytest

from tests.conftest import PG_URL
from tests.reliability.crash_rounds import (
    Ledger,
    Load,
    check_fifo_order,
    check_final,
    check_kinesis,
    check_no_early_redelivery,
    integrity_ok,
)

BACKENDS = ["sqlite", pytest.param("pg", marks=pytest.mark.pg)]
ROUNDS = int(os.environ.get("BROKER_CRASH_ROUNDS", "5"))


@pytest.mark.slow
@pytest.mark.timeout(120 + ROUNDS * 30)
@pytest.mark.parametrize("backend", BACKENDS)
def test_crash_rounds(server_factory, backend):
    seed = int(os.environ.get("BROKER_CRASH_SEED", random.randrange(1 << 30)))
    print(f"crash rounds: backend {backend}, {ROUNDS} rounds, seed {seed}")  # rerun with BROKER_CRASH_SEED
    rng = random.Random(seed)
    server = server_factory(backend, workers=2).start()
    ledger = Ledger()
    load = Load(server, ledger)
    for _ in range(ROUNDS):
        load.run_round(rng)
        if backend == "sqlite":
            assert integrity_ok(server.data_dir) == "ok", f"round {load.round_no}: database damaged"
        server.start()
        check_no_early_redelivery(ledger)
        check_fifo_order(ledger)
        check_kinesis(server.client("kinesis"), ledger)
    summary = check_final(server, load, ledger)
    print(f"crash rounds passed: {summary}")
    assert summary["sqs_sent"] and summary["fifo_sent"] and summary["published"] and summary["kinesis_records"]


@pytest.mark.slow
@pytest.mark.pg
def test_postgresql_connections_dropped_mid_load(server_factory):
    """PostgreSQL restarting, as the broker sees it: every connection dropped at once (and, with
    BROKER_TEST_PG_RESTART=1 as `make soak` sets it, the real restart of the machine's cluster, with the seconds in
    which it refuses connections). The broker reconnects and the load goes on; nothing acknowledged is lost."""
    server = server_factory("pg", workers=2).start()
    database = server.db_url.rsplit("/", 1)[1]
    ledger = Ledger()
    load = Load(server, ledger)

    def drop_connections() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            dropped = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s", (database,)
            ).fetchone()[0]
        assert dropped >= 2, f"expected the workers' connections, found {dropped}"

    def restart_postgresql() -> None:
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(["pg_ctlcluster", version, "main", "restart"], check=True, timeout=120)

    interrupt = restart_postgresql if os.environ.get("BROKER_TEST_PG_RESTART") == "1" else drop_connections
    rng = random.Random(7)
    for _ in range(2):
        load.run_round(rng, interrupt=interrupt)
    summary = check_final(server, load, ledger)
    print(f"PostgreSQL {interrupt.__name__} twice under load: {summary}")
