"""STS as the runtime sees it: a spec, and per process the server key temporary credentials are authenticated with
(loaded at start from its broker_state row, created by the first process)."""

from __future__ import annotations

from typing import Any

from broker.auth.temporary import SESSION_KEYS, SessionKeys, new_server_key
from broker.protocol.spec import ServiceSpec
from broker.services.base import Env, Service, Slot
from broker.services.sts import spec, store


class StsService(Service):
    name = "sts"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.keys = SessionKeys()

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]

    def provides(self) -> dict[Slot[Any], object]:
        return {SESSION_KEYS: self.keys}

    def kept_state(self) -> frozenset[str]:
        return frozenset({store.SERVER_KEY})  # every process holds the key in memory

    async def start(self) -> None:
        value = await self.env.db.read(store.server_key)
        if value is None:
            await self.env.db.write(store.keep_server_key, new_server_key())
            value = await self.env.db.read(store.server_key)
        if value is None:
            raise RuntimeError("the STS server key was stored but cannot be read back")
        self.keys.load(bytes.fromhex(value))


SERVICE = StsService
