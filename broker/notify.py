"""Wakeups when a commit makes work available: in this process at once, and in every other process.

Cross-process transport: on SQLite, a Unix datagram socket per process (Linux abstract namespace, registered by a
marker file in the data dir, which also publishes what the process waits on, so a commit is sent only to the
processes that want one of its keys); on PostgreSQL, LISTEN/NOTIFY (the NOTIFY is sent inside the writing
transaction, so it is delivered exactly when the data is visible). Idle waiters cost nothing: nobody polls the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mmap
import os
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("broker.notify")

CHANNEL = "broker_events"
WAKE_ALL = "*"


class Watch:
    """Registered interest in some keys; create it *before* checking for work, then wait."""

    __slots__ = ("_notifier", "_keys", "fut")

    def __init__(self, notifier: Notifier, keys: Iterable[str]) -> None:
        self._notifier = notifier
        self._keys = tuple(keys)
        self.fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        waiters = notifier._waiters
        for k in self._keys:
            s = waiters.get(k)
            if s is None:
                s = waiters[k] = set()
                notifier.transport.want(k, True)
            s.add(self.fut)

    async def wait(self, timeout: float) -> bool:
        """True if woken, False on timeout."""
        if self.fut.done():
            return True
        if timeout <= 0:
            return False
        try:
            await asyncio.wait_for(asyncio.shield(self.fut), timeout)
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        for k in self._keys:
            s = self._notifier._waiters.get(k)
            if s is not None:
                s.discard(self.fut)
                if not s:
                    del self._notifier._waiters[k]
                    self._notifier.transport.want(k, False)
        if not self.fut.done():
            self.fut.cancel()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Notifier:
    def __init__(self, transport: Transport) -> None:
        self._waiters: dict[str, set[asyncio.Future[bool]]] = {}
        self._handlers: list[tuple[str, Callable[[str], None]]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.transport = transport

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport.start(loop, self._on_keys)

    def stop(self) -> None:
        self.transport.stop()
        # Subscriptions belong to one start: a start after a stop (a failed start tried again) subscribes anew.
        self._handlers.clear()

    def subscribe(self, prefix: str, handler: Callable[[str], None]) -> None:
        """Call `handler(key)` in the loop thread for every key with this prefix, local or remote."""
        self._handlers.append((prefix, handler))
        self.transport.want_prefixes(tuple(sorted({p for p, _h in self._handlers})))

    def waiting(self) -> int:
        return sum(len(s) for s in self._waiters.values())

    # -- delivery (loop thread) ----------------------------------------------------------------------------
    def _on_keys(self, keys: Iterable[str]) -> None:
        for key in keys:
            for prefix, handler in self._handlers:
                if key.startswith(prefix):
                    try:
                        handler(key)
                    except Exception:
                        log.exception("notify handler failed for %s", key)
            if key == WAKE_ALL:
                targets = [f for s in self._waiters.values() for f in s]
            else:
                targets = list(self._waiters.get(key, ()))
            for fut in targets:
                if not fut.done():
                    fut.set_result(True)

    def _local(self, keys: set[str]) -> None:
        loop = self.loop
        if loop is not None and self._wanted(keys):
            if asyncio._get_running_loop() is loop:  # committed on the loop itself (db.py): no self-pipe wake
                loop.call_soon(self._on_keys, list(keys))
                return
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._on_keys, list(keys))

    def _wanted(self, keys: set[str]) -> bool:
        """Whether this process waits on or handles any of `keys` (read from the writer thread: a waiter registers
        before it looks for work, so one that could miss this commit's data is already registered). Most commits
        wake nobody here, and a call into the loop costs a self-pipe write and a loop turn."""
        waiters, handlers = self._waiters, self._handlers
        for key in keys:
            if key == WAKE_ALL or key in waiters:
                return True
            for prefix, _handler in handlers:
                if key.startswith(prefix):
                    return True
        return False

    # -- CommitListener (writer thread) --------------------------------------------------------------------
    def before_commit(self, conn: Connection, keys: set[str]) -> None:
        self.transport.in_transaction(conn, keys)

    def after_commit(self, keys: set[str]) -> None:
        self._local(keys)
        self.transport.publish(keys)

    def broadcast(self, keys: set[str]) -> None:
        """Publish outside any transaction (clock changes, cache invalidation)."""
        self._local(keys)
        self.transport.publish_direct(keys)


class Transport:
    def start(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[list[str]], None]) -> None: ...
    def stop(self) -> None: ...
    def want(self, key: str, wanted: bool) -> None:
        """This process starts (or stops) waiting on `key` (loop thread)."""

    def want_prefixes(self, prefixes: tuple[str, ...]) -> None:
        """The key prefixes this process's handlers subscribe to, all of them (loop thread)."""

    def in_transaction(self, conn: Connection, keys: set[str]) -> None: ...
    def publish(self, keys: set[str]) -> None: ...
    def publish_direct(self, keys: set[str]) -> None:
        self.publish(keys)


# A process's marker file, mapped into memory by its peers: the key prefixes its handlers subscribe to (behind a
# generation that is odd while they are rewritten) and one byte per hash slot of the exact keys it waits on.
_GEN = struct.Struct("<Q")
_LEN = struct.Struct("<I")
PREFIXES_AT = _GEN.size + _LEN.size
SLOTS_AT = 4096
SLOTS = 4096  # a collision only sends a datagram nobody needed
EVERYTHING = 0xFFFFFFFF  # in place of the prefixes' length: the process wants every key
INTEREST_SIZE = SLOTS_AT + SLOTS


def _slot(key: str) -> int:
    return zlib.crc32(key.encode()) & (SLOTS - 1)


class _Peer:
    """Another process's socket name and, read from its marker file, what it waits on."""

    __slots__ = ("name", "map", "gen", "prefixes")

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.map: mmap.mmap | None = None  # None: its interest is unknown (still starting): it wants everything
        self.gen = -1
        self.prefixes: tuple[str, ...] = ()
        with contextlib.suppress(OSError, ValueError), open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size >= INTEREST_SIZE:
                self.map = mmap.mmap(f.fileno(), INTEREST_SIZE, access=mmap.ACCESS_READ)

    def wants(self, keys: Iterable[str]) -> bool:
        m = self.map
        if m is None:
            return True
        gen = _GEN.unpack_from(m)[0]
        if gen != self.gen:
            if gen & 1:
                return True  # its prefixes are being rewritten
            n = _LEN.unpack_from(m, _GEN.size)[0]
            text = m[PREFIXES_AT : PREFIXES_AT + n] if n != EVERYTHING else b""
            if _GEN.unpack_from(m)[0] != gen:
                return True
            self.prefixes = ("",) if n == EVERYTHING else tuple(text.decode().split("\n")) if n else ()
            self.gen = gen
        prefixes = self.prefixes
        return any(key == WAKE_ALL or m[SLOTS_AT + _slot(key)] or key.startswith(prefixes) for key in keys)

    def close(self) -> None:
        if self.map is not None:
            self.map.close()


class DatagramTransport(Transport):
    """Peers are processes sharing one data dir; each has an abstract Unix socket named by a marker file, which
    also says what the process waits on: a commit's keys go only to the peers that want one of them (most commits,
    such as a SendMessage nobody long-polls for in that process, wake no other process)."""

    def __init__(self, data_dir: str) -> None:
        self.dir = Path(data_dir).resolve() / "notify"
        self._ns = hashlib.sha1(str(self.dir).encode()).hexdigest()[:16]
        self._me = f"{os.getpid()}-{os.urandom(4).hex()}"
        self._recv: socket.socket | None = None
        self._send = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._send.setblocking(False)
        self._peers: dict[str, _Peer] = {}
        self._peers_at = 0.0
        self._lock = threading.Lock()
        self._deliver: Callable[[list[str]], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # What this process waits on, kept here and mirrored into its marker file while started.
        self._counts = [0] * SLOTS
        self._prefixes: tuple[str, ...] = ()
        self._gen = 0
        self._map: mmap.mmap | None = None

    def _addr(self, name: str) -> bytes:
        return f"\0broker-{self._ns}-{name}".encode()

    def start(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[list[str]], None]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        # A new name per start: peers that mapped the marker of an earlier start (a start undone and tried
        # again) must not keep reading that unlinked file.
        self._me = f"{os.getpid()}-{os.urandom(4).hex()}"
        self._recv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._recv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._recv.bind(self._addr(self._me))
        self._recv.setblocking(False)
        # The marker appears whole (written under a dot name, then renamed): a peer never reads a half-made one.
        tmp = self.dir / f".{self._me}"
        try:
            with open(tmp, "w+b") as f:
                # Written out, not a sparse truncate: a page first written through the map on a full disk would
                # kill the process (SIGBUS) instead of raising here.
                f.write(bytes(INTEREST_SIZE))
                f.flush()
                self._map = mmap.mmap(f.fileno(), INTEREST_SIZE)
        except OSError as e:  # a full disk: an empty marker, which peers read as "wants everything"
            log.warning("notify: no interest map (%s); other processes will send this one every commit", e)
            tmp.write_bytes(b"")
        if self._map is not None:
            for slot, count in enumerate(self._counts):
                if count:
                    self._map[SLOTS_AT + slot] = 1
            self._write_prefixes()
        tmp.rename(self.dir / self._me)
        self._deliver = deliver
        self._loop = loop
        loop.add_reader(self._recv.fileno(), self._readable)

    def stop(self) -> None:
        if self._recv is not None:
            if self._loop is not None:
                with contextlib.suppress(Exception):
                    self._loop.remove_reader(self._recv.fileno())
            self._recv.close()
            self._recv = None
        with contextlib.suppress(FileNotFoundError):
            (self.dir / self._me).unlink()
        if self._map is not None:
            self._map.close()
            self._map = None

    # -- what this process waits on (loop thread) ----------------------------------------------------------
    def want(self, key: str, wanted: bool) -> None:
        slot = _slot(key)
        before = self._counts[slot]
        self._counts[slot] = after = before + (1 if wanted else -1)
        if self._map is not None and (before == 0) != (after == 0):
            self._map[SLOTS_AT + slot] = 1 if after else 0

    def want_prefixes(self, prefixes: tuple[str, ...]) -> None:
        self._prefixes = prefixes
        if self._map is not None:
            self._write_prefixes()

    def _write_prefixes(self) -> None:
        assert self._map is not None
        text = "\n".join(self._prefixes).encode()
        length = len(text)
        if length > SLOTS_AT - PREFIXES_AT or "" in self._prefixes:
            text, length = b"", EVERYTHING  # too many to list, or a handler of every key
        self._gen += 1  # odd: a peer reading now sends whatever it has
        _GEN.pack_into(self._map, 0, self._gen)
        _LEN.pack_into(self._map, _GEN.size, length)
        self._map[PREFIXES_AT : PREFIXES_AT + len(text)] = text
        self._gen += 1
        _GEN.pack_into(self._map, 0, self._gen)

    # -- receiving (loop thread) ---------------------------------------------------------------------------
    def _readable(self) -> None:
        keys: list[str] = []
        while self._recv is not None:
            try:
                data = self._recv.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            keys.extend(data.decode().split("\n"))
        if keys and self._deliver is not None:
            self._deliver(keys)

    # -- sending (writer thread, or any thread through publish_direct) -------------------------------------
    def _peer_list(self) -> list[_Peer]:
        now = time.monotonic()
        if now - self._peers_at > 0.5:
            try:
                names = {n for n in os.listdir(self.dir) if n != self._me and not n.startswith(".")}
            except FileNotFoundError:
                names = set()
            for name in [n for n in self._peers if n not in names]:
                self._peers.pop(name).close()
            for name in names - self._peers.keys():
                self._peers[name] = _Peer(name, self.dir / name)
            self._peers_at = now
        return list(self._peers.values())

    def publish(self, keys: set[str]) -> None:
        self._send_to(keys, everyone=False)

    def publish_direct(self, keys: set[str]) -> None:
        self._send_to(keys, everyone=True)

    def _send_to(self, keys: set[str], everyone: bool) -> None:
        payload: bytes | None = None
        if not self._peers and time.monotonic() - self._peers_at <= 0.5:
            return  # the only process (one worker)
        with self._lock:
            for peer in self._peer_list():
                if not everyone and not peer.wants(keys):
                    continue
                if payload is None:
                    payload = "\n".join(keys).encode()
                try:
                    self._send.sendto(payload, self._addr(peer.name))
                except ConnectionRefusedError:
                    # The peer died without cleaning up: forget it.
                    with contextlib.suppress(FileNotFoundError):
                        (self.dir / peer.name).unlink()
                    self._peers_at = 0.0
                except (BlockingIOError, OSError):
                    pass  # its buffer is full; it will recheck on its safety-net timer


class PostgresTransport(Transport):
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn.replace("postgresql+psycopg://", "postgresql://")
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._deliver: Callable[[list[str]], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._direct: psycopg.Connection[tuple[Any, ...]] | None = None
        self._direct_lock = threading.Lock()
        self.connected = threading.Event()

    def start(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[list[str]], None]) -> None:
        self._loop = loop
        self._deliver = deliver
        # A fresh stop flag per start: a start after a stop must not find the old one set (its listener ends on it).
        self._stopping = threading.Event()
        self.connected.clear()
        self._thread = threading.Thread(target=self._listen, args=(self._stopping,), name="broker-listen", daemon=True)
        self._thread.start()
        self.connected.wait(5)

    def stop(self) -> None:
        self._stopping.set()

    def _listen(self, stopping: threading.Event) -> None:
        import psycopg

        while not stopping.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    # After a reconnect anything may have been missed: wake everyone to recheck.
                    self._hand_over([WAKE_ALL])
                    while not stopping.is_set():
                        for n in conn.notifies(timeout=1.0):
                            if stopping.is_set():
                                break  # a listener started since (a start tried again) delivers from now on
                            self._hand_over(n.payload.split("\n"))
            except Exception as e:  # noqa: BLE001 - the listener outlives any failure: it reconnects
                log.warning("LISTEN connection lost (%s); reconnecting", e)
                stopping.wait(1.0)

    def _hand_over(self, keys: list[str]) -> None:
        if self._loop is not None and self._deliver is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._deliver, keys)

    def in_transaction(self, conn: Connection, keys: set[str]) -> None:
        for chunk in _chunks(keys):
            conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": chunk})

    def publish(self, keys: set[str]) -> None:
        pass  # sent by in_transaction, delivered by PostgreSQL at commit

    def publish_direct(self, keys: set[str]) -> None:
        import psycopg

        with self._direct_lock:
            for attempt in range(2):
                try:
                    if self._direct is None or self._direct.closed:
                        self._direct = psycopg.connect(self.dsn, autocommit=True)
                    for chunk in _chunks(keys):
                        self._direct.execute("SELECT pg_notify(%s, %s)", (CHANNEL, chunk))
                    return
                except Exception:
                    self._direct = None
                    if attempt:
                        raise


def _chunks(keys: set[str]) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    size = 0
    for k in keys:
        if size + len(k) > 7000 and cur:
            out.append("\n".join(cur))
            cur, size = [], 0
        cur.append(k)
        size += len(k) + 1
    if cur:
        out.append("\n".join(cur))
    return out
