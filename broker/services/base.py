"""What a service tells the runtime about itself, and the facilities the runtime offers it.

Each service folder has a `service.py` defining one `Service` subclass, listed once in `registry.py`. The runtime
(one per worker process) builds every listed service, serves its specs, subscribes its caches to change
notifications, schedules its jobs, mounts its admin routes, and calls its start/stop/reset hooks. Operations reach
shared facilities through `RequestContext.env`, typed by the `Env` protocol below, and a service's own per-process
objects (caches, a signer) through typed `Slot`s it provides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from broker.cache import TtlCache

if TYPE_CHECKING:
    from fastapi import APIRouter

    from broker.config import Settings
    from broker.notify import Notifier
    from broker.protocol.spec import ServiceSpec
    from broker.storage.db import Database

T = TypeVar("T")


class Slot(Generic[T]):
    """A typed name for a per-process object a service provides (its cache, its signer): `env.get(SLOT)`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class Env(Protocol):
    """The shared facilities of one worker process (the runtime implements it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def notifier(self) -> Notifier: ...

    def get(self, slot: Slot[T]) -> T:
        """The object a service provides under `slot` (KeyError for one no listed service provides)."""
        ...


class DataPlane(Protocol):
    """Plain HTTP a service serves besides its AWS API (Lambda's function URLs): asked per request, before the AWS
    protocols and the admin routes, whether a host and path are its own."""

    def claims(self, host: str, path: str) -> bool: ...

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None: ...


@dataclass(frozen=True)
class Job:
    """Periodic work run on a scheduler thread; `leased` jobs run in one process of the cluster at a time."""

    name: str
    run: Callable[[], object]
    interval: float
    # Cheap check before taking the lease: no lease traffic while there is nothing to do.
    precheck: Callable[[], bool] | None = None
    leased: bool = True
    # The notification key (prefix) that the writes creating this job's work wake: while the precheck finds
    # nothing the job sleeps until it (broker/jobs/scheduler.py), or at most IDLE_RECHECK_S. Work that only comes
    # with time (retention) may use a key nobody sends: idle, the job then looks every IDLE_RECHECK_S.
    wake: str | None = None
    # For work that comes with time (expiry, retention), asked instead of a precheck: when the job's work is next
    # due (clock ms; None: none pending). The job sleeps until then or a wake of `wake`; `run` returns how much it
    # did (after a run that did some it runs again without asking).
    due: Callable[[], int | None] | None = None


# The wake key of jobs whose work only comes with time: none of our writes send it.
TIME_ONLY = "jobs:time-only"


class Service:
    """One AWS service (or a family sharing storage). Subclasses override what they have; the defaults are empty."""

    name: str = ""

    def __init__(self, env: Env) -> None:
        self.env = env

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        """The wire specs this service answers (one per AWS signing name); needs no runtime, so tools and tests
        can list what is served."""
        return []

    def provides(self) -> dict[Slot[Any], object]:
        """Per-process objects reached by operations through `env.get(slot)`."""
        return {}

    def caches(self) -> list[TtlCache[Any]]:
        """Definition caches: each is dropped entry by entry on its notifications, and whole on reset."""
        return [value for value in self.provides().values() if isinstance(value, TtlCache)]

    def jobs(self) -> list[Job]:
        return []

    def data_plane(self) -> DataPlane | None:
        return None

    def admin_router(self) -> APIRouter | None:
        """Routes under /_broker/<service>/ (operator and test endpoints)."""
        return None

    def kept_state(self) -> frozenset[str]:
        """broker_state keys a test-mode reset keeps (state every process holds in memory)."""
        return frozenset()

    async def start(self) -> None:
        """Runs once per process after the database and notifications are up, before jobs start."""

    async def stop(self) -> None:
        """Runs once per process at shutdown, before the database closes."""
