"""Commit notifications between processes on SQLite go only to the processes that want one of the keys: each
process's marker file publishes the exact keys it waits on and its handlers' prefixes. (The wake-ups themselves
are proved end to end by the long-poll, job and delivery tests with several workers.)"""

import asyncio
from pathlib import Path

from broker.notify import WAKE_ALL, DatagramTransport, Notifier, Watch

SETTLE_S = 0.05


def _received(tmp_path: Path, scenario) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """Run `scenario(publisher, receiving_notifier)` with a receiving process (simulated by a transport bound to a
    running loop) and a publishing one on the same data dir; what the receiver got, datagram by datagram."""
    got: list[list[str]] = []

    async def main() -> None:
        receiver = Notifier(DatagramTransport(str(tmp_path)))
        receiver.start(asyncio.get_running_loop())
        receiver.transport._deliver = got.append  # type: ignore[attr-defined]
        publisher = DatagramTransport(str(tmp_path))
        try:
            await scenario(publisher, receiver)
        finally:
            receiver.stop()

    asyncio.run(main())
    return got


async def _publish(publisher: DatagramTransport, *keys: str) -> None:
    publisher.publish(set(keys))
    await asyncio.sleep(SETTLE_S)


def test_a_commit_nobody_waits_for_sends_nothing(tmp_path: Path) -> None:
    async def scenario(publisher: DatagramTransport, receiver: Notifier) -> None:
        await _publish(publisher, "sqs:q1")

    assert _received(tmp_path, scenario) == []


def test_a_waiter_receives_its_key_and_stops_receiving_once_gone(tmp_path: Path) -> None:
    async def scenario(publisher: DatagramTransport, receiver: Notifier) -> None:
        with Watch(receiver, ["sqs:q1"]):
            await _publish(publisher, "sqs:q1")
            await _publish(publisher, "sqs:other")
        await _publish(publisher, "sqs:q1")

    assert _received(tmp_path, scenario) == [["sqs:q1"]]


def test_two_waiters_on_one_key_keep_it_wanted_until_both_are_gone(tmp_path: Path) -> None:
    async def scenario(publisher: DatagramTransport, receiver: Notifier) -> None:
        first = Watch(receiver, ["k"])
        second = Watch(receiver, ["k"])
        first.close()
        await _publish(publisher, "k")
        second.close()
        await _publish(publisher, "k")

    assert _received(tmp_path, scenario) == [["k"]]


def test_handler_prefixes_and_wake_all_are_always_sent(tmp_path: Path) -> None:
    async def scenario(publisher: DatagramTransport, receiver: Notifier) -> None:
        receiver.subscribe("sqs:cache:", lambda _key: None)
        await _publish(publisher, "sqs:cache:123")
        await _publish(publisher, "sqs:cach")
        await _publish(publisher, WAKE_ALL)
        publisher.publish_direct({"clock:"})  # outside a transaction (clock moves): every process
        await asyncio.sleep(SETTLE_S)

    assert _received(tmp_path, scenario) == [["sqs:cache:123"], [WAKE_ALL], ["clock:"]]


def test_a_subscription_made_after_the_peer_was_read_is_seen(tmp_path: Path) -> None:
    async def scenario(publisher: DatagramTransport, receiver: Notifier) -> None:
        await _publish(publisher, "jobs:x")  # the publisher reads the receiver's interest now
        receiver.subscribe("jobs:", lambda _key: None)
        await _publish(publisher, "jobs:x")

    assert _received(tmp_path, scenario) == [["jobs:x"]]


def test_a_peer_whose_interest_cannot_be_read_gets_everything(tmp_path: Path) -> None:
    # A marker without the interest map (a process of an older broker version still running on this data dir).
    async def scenario(publisher: DatagramTransport, receiver: Notifier) -> None:
        marker = next(p for p in publisher.dir.iterdir() if not p.name.startswith("."))
        marker.write_bytes(b"")
        await _publish(publisher, "sqs:q1")

    assert _received(tmp_path, scenario) == [["sqs:q1"]]


def test_a_handler_of_every_key_gets_every_key(tmp_path: Path) -> None:
    async def scenario(publisher: DatagramTransport, receiver: Notifier) -> None:
        receiver.subscribe("", lambda _key: None)
        await _publish(publisher, "anything:at-all")

    assert _received(tmp_path, scenario) == [["anything:at-all"]]


def test_a_process_started_again_is_read_anew(tmp_path: Path) -> None:
    # A worker whose start failed is stopped and started again: peers that mapped its first marker must read the
    # new one (the old file is unlinked; its map would never change again).
    async def scenario(publisher: DatagramTransport, receiver: Notifier) -> None:
        await _publish(publisher, "sqs:q1")  # the publisher maps the first marker now
        loop = asyncio.get_running_loop()
        deliver = receiver.transport._deliver  # type: ignore[attr-defined]
        receiver.stop()
        receiver.start(loop)
        receiver.transport._deliver = deliver  # type: ignore[attr-defined]
        publisher._peers_at = 0.0  # the publisher's next listing of the directory (every 0.5 s)
        with Watch(receiver, ["sqs:q1"]):
            await _publish(publisher, "sqs:q1")

    assert _received(tmp_path, scenario) == [["sqs:q1"]]
