"""uvicorn's server loop ticks once a second in the broker's workers (broker/server_tick.py): the Date header still
follows the clock, and a stop signal still ends a worker at once, not at its next tick."""

import email.utils
import time

import httpx
import pytest


@pytest.mark.parametrize("workers", [1, 2])
def test_date_header_follows_the_clock_and_sigterm_stops_at_once(server_factory, workers):
    server = server_factory("sqlite", workers=workers).start()
    dates = set()
    deadline = time.monotonic() + 5
    while len(dates) < 3 and time.monotonic() < deadline:
        r = httpx.get(server.url + "/_broker/health")
        stamp = email.utils.parsedate_to_datetime(r.headers["date"]).timestamp()
        assert abs(stamp - time.time()) < 2.5
        dates.add(stamp)
        time.sleep(0.3)
    assert len(dates) >= 3, "the Date header did not move on every second"

    started = time.monotonic()
    server.stop()
    # One worker stops in about 0.2 s here; waiting for the next tick would add up to a second.
    assert time.monotonic() - started < (0.9 if workers == 1 else 3), "SIGTERM waited for a tick"
