"""Per-request facts every operation may need."""

from __future__ import annotations

from dataclasses import dataclass

from broker.identity import Identity
from broker.services.base import Env


@dataclass(slots=True)
class RequestContext:
    env: Env  # the worker's shared facilities: settings, database, notifier, the services' per-process objects
    account: str
    region: str
    host: str  # host[:port] the client addressed, for URLs we hand back
    trace_header: str = ""  # the X-Amzn-Trace-Id request header (SQS stores it as a message's AWSTraceHeader)
    # True when the request's signature was verified (auth = "sigv4"): resource policies then decide access to
    # another account's resources. False with auth = "none", where any caller may name any account.
    authenticated: bool = False
    identity: Identity | None = None  # the verified caller (auth = "sigv4"); None: derived as below
    temporary: bool = False  # signed with temporary credentials (a session token), which some operations refuse

    @property
    def caller(self) -> Identity:
        return self.identity or Identity(self.account, self.env.settings.user_name)
