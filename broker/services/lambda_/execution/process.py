"""One environment's OS process: spawned in its own session (process group), its stdout+stderr on one pipe read
by the event loop, its exit seen through a pidfd, killed with its whole group and always reaped."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


class RuntimeProcess:
    """`on_output(bytes)` gets what the process writes (b"" at end of file); `on_exit(returncode)` runs once, on the
    event loop, after the process was reaped."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        on_output: Callable[[bytes], None],
        on_exit: Callable[[int], None],
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_output = on_output
        self._on_exit = on_exit
        program = argv[0] if os.sep in argv[0] else shutil.which(argv[0]) or argv[0]
        if not os.access(program, os.X_OK):
            # Checked here: behind setpriv a missing program would only show as an exit status.
            code = errno.EACCES if os.path.exists(program) else errno.ENOENT
            raise OSError(code, os.strerror(code), program)
        read_fd, write_fd = os.pipe()
        try:
            self._popen = subprocess.Popen(
                [*_orphan_guard(), program, *argv[1:]],
                env=env,
                cwd=str(cwd),
                stdin=subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                start_new_session=True,
                close_fds=True,
            )
        except BaseException:
            os.close(read_fd)
            os.close(write_fd)
            raise
        os.close(write_fd)
        self.pid = self._popen.pid
        self.returncode: int | None = None
        self._out_fd: int | None = read_fd
        os.set_blocking(read_fd, False)
        self._loop.add_reader(read_fd, self.drain)
        self._status_fd: int | None = None
        with contextlib.suppress(OSError):
            self._status_fd = os.open(f"/proc/{self.pid}/status", os.O_RDONLY)
        self._pidfd: int | None = None
        try:
            self._pidfd = os.pidfd_open(self.pid)
            self._loop.add_reader(self._pidfd, self._exited)
        except (AttributeError, OSError):
            # No pidfd (old kernel): one thread waits for the exit.
            threading.Thread(target=self._wait_thread, name=f"lambda-wait-{self.pid}", daemon=True).start()

    @property
    def alive(self) -> bool:
        return self.returncode is None

    def drain(self) -> None:
        """Reads everything the pipe holds now: output written before a Runtime API call is in the pipe by then."""
        fd = self._out_fd
        if fd is None:
            return
        while True:
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._close_output()
                self._on_output(b"")
                return
            self._on_output(data)

    def kill(self) -> None:
        """SIGKILL to the whole process group (the runtime, the handler's children); the exit follows as usual."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    def peak_rss_kb(self) -> int:
        """The runtime process's peak resident set (VmHWM), one read of an open /proc file."""
        fd = self._status_fd
        if fd is None:
            return 0
        try:
            text = os.pread(fd, 4096, 0)
        except OSError:
            return 0
        at = text.find(b"VmHWM:")
        if at < 0:
            return 0
        return int(text[at + 6 : text.index(b"kB", at)])

    def group_rss_kb(self) -> int:
        """Resident memory now of the runtime and all its descendants."""
        total = 0
        pending = [self.pid]
        seen = 0
        while pending and seen < 256:
            pid = pending.pop()
            seen += 1
            try:
                with open(f"/proc/{pid}/statm", "rb") as f:
                    total += int(f.read().split()[1]) * _PAGE_KB
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children", "rb") as f:
                        pending.extend(int(child) for child in f.read().split())
            except (OSError, ValueError, IndexError):
                continue
        return total

    def _exited(self) -> None:
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        # The leader is a zombie until reaped, so its group id cannot be reused: kill what it left behind first.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self._finish(self._popen.wait())

    def _wait_thread(self) -> None:
        returncode = self._popen.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._finish, returncode)

    def _finish(self, returncode: int) -> None:
        if self.returncode is not None:
            return
        self.returncode = returncode
        self.drain()
        self._close_output()
        if self._status_fd is not None:
            os.close(self._status_fd)
            self._status_fd = None
        self._on_exit(returncode)

    def _close_output(self) -> None:
        if self._out_fd is not None:
            self._loop.remove_reader(self._out_fd)
            os.close(self._out_fd)
            self._out_fd = None


@functools.cache
def _orphan_guard() -> tuple[str, ...]:
    """A prefix that makes the runtime die with the broker worker (SIGKILL as its parent-death signal), so a worker
    killed without stopping its engine leaves no runtime behind: util-linux's setpriv sets it and execs the
    runtime in the same process. (preexec_fn could do it without setpriv, but is unsafe in a threaded process.)"""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return ()
    try:
        usage = subprocess.run([setpriv, "--help"], capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return (setpriv, "--pdeathsig", "KILL", "--") if "--pdeathsig" in usage else ()
