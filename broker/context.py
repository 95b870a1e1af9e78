"""Per-request facts every operation may need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.runtime import Runtime


@dataclass(slots=True)
class RequestContext:
    runtime: Runtime
    account: str
    region: str
    access_key: str
    request_id: str
    service: str
    operation: str
    host: str  # host[:port] the client addressed, for URLs we hand back
    path: str = "/"
    extra: dict = field(default_factory=dict)

    @property
    def caller_id(self) -> str:
        return self.account
