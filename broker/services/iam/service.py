"""IAM as the runtime sees it: one spec; state in the iam_* tables; per process, the cache of access keys requests
are signed with (auth = "sigv4", broker/auth/keys.py)."""

from __future__ import annotations

from typing import Any

from broker.auth.keys import IAM_KEYS, IamKeyCache
from broker.protocol.spec import ServiceSpec
from broker.services.base import Env, Service, Slot
from broker.services.iam import spec


class IamService(Service):
    name = "iam"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self._keys = IamKeyCache()

    @classmethod
    def specs(cls) -> list[ServiceSpec]:
        return [spec.build()]

    def provides(self) -> dict[Slot[Any], object]:
        return {IAM_KEYS: self._keys}


SERVICE = IamService
