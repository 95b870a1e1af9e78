"""The one interface every wire protocol offers the gateway, and the values that pass through it.

A protocol finds the operation a request names (`route`), decodes the request into the operation's typed
parameters (`decode`), renders a result or an error (`render_result`, `render_error`) and frames the events of a
streamed answer (`open_stream`, `frame_event`). Operations see none of it: they take parameters and return dicts,
or an `EventStream` of plain event dicts.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel

from broker import errors
from broker.errors import ServiceError
from broker.protocol.spec import ServiceSpec
from broker.protocol.uri import RestRoutes

Headers = list[tuple[bytes, bytes]]
Response = tuple[int, Headers, bytes]
Result = dict[str, Any]  # what an operation returns: the output shape's members

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


def parse_credential(text: str) -> tuple[str, str, str] | None:
    """(access key, region, service) from a SigV4 Authorization header or X-Amz-Credential value."""
    m = _CREDENTIAL.search(text if "Credential=" in text else "Credential=" + text)
    return (m.group(1), m.group(2), m.group(3)) if m else None


@dataclass(slots=True)
class HttpRequest:
    """What the gateway read of one HTTP request (the body complete)."""

    method: str
    path: str
    query_string: bytes
    headers: dict[bytes, bytes]
    body: bytes
    raw_path: bytes = b""  # the path as sent (percent-encoded): rest protocols split labels before decoding
    # The headers as received, duplicates included (`headers` keeps the last of each name): SigV4 signs them all.
    header_list: list[tuple[bytes, bytes]] | None = None
    # (access key, region, service) of the SigV4 scope once the signature verified (auth = "sigv4"): routing and
    # the request's region take it, never a second parse of the header.
    signed_scope: tuple[str, str, str] | None = None

    def header(self, name: bytes) -> str:
        return self.headers.get(name, b"").decode("latin-1")

    def credential(self, params: dict[str, str] | None = None) -> tuple[str, str, str] | None:
        """(access key, region, service) of the request's SigV4 scope: the verified one, else what the
        Authorization header (or the X-Amz-Credential of `params`, the query) names."""
        if self.signed_scope is not None:
            return self.signed_scope
        text = self.header(b"authorization") or (params or {}).get("X-Amz-Credential", "")
        return parse_credential(text) if text else None

    def query_params(self) -> dict[str, str]:
        """The URL's query parameters (UnicodeDecodeError / ValueError when malformed)."""
        if not self.query_string:
            return {}
        return dict(parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True, errors="strict"))


@dataclass(slots=True)
class Route:
    """The operation a request names, and what routing learnt on the way."""

    spec: ServiceSpec
    op: OperationModel
    credential: tuple[str, str, str] | None  # (access key, region, signing name) of the SigV4 scope
    fields: dict[str, str] = field(default_factory=dict)  # request members already read while routing


class RoutingError(Exception):
    """No operation could be found; `spec` is the service when it is known (for the error's wire form)."""

    def __init__(self, spec: ServiceSpec | None, error: ServiceError) -> None:
        super().__init__(error.message)
        self.spec = spec
        self.error = error


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One message of an event stream: `type` is the member of the stream union (e.g. "SubscribeToShardEvent"),
    or with `error` set, the modeled exception that ends the stream."""

    type: str
    payload: dict[str, object]
    error: bool = False


@dataclass(slots=True)
class EventStream:
    """An operation result sent while it is produced. The gateway frames each event in the request's protocol,
    stops the producer when the client goes, and ends with `failure` if producing fails midway. `initial` holds the
    output's other members (rest protocols send them as headers before the first event)."""

    events: AsyncIterator[StreamEvent]
    failure: StreamEvent
    initial: dict[str, Any] = field(default_factory=dict)


class Services:
    """The served specs, indexed the ways protocols find a service."""

    def __init__(self, specs: list[ServiceSpec]) -> None:
        self.by_target = {s.target_prefix: s for s in specs if s.target_prefix}
        self.by_name = {s.name: s for s in specs}
        self.by_version = {s.api_version: s for s in specs}
        self.by_action: dict[str, ServiceSpec] = {}
        for s in specs:
            if s.model.metadata.get("protocol") == "rest-json":
                continue  # routed by URI template only
            for op in s.model.operation_names:
                self.by_action.setdefault(op, s)
        self.rest = RestRoutes(specs)


class WireProtocol:
    """Base of the protocols; each overrides all but the stream methods, which only event-stream protocols have."""

    def route(self, req: HttpRequest, services: Services) -> Route:
        raise NotImplementedError

    def decode(self, route: Route, req: HttpRequest, host: str) -> dict[str, object]:
        """The operation's parameters, converted and checked against its input shape (ServiceError if bad)."""
        raise NotImplementedError

    def render_result(
        self, spec: ServiceSpec, op: OperationModel, result: dict[str, Any] | None, request_id: str
    ) -> Response:
        raise NotImplementedError

    def render_error(self, spec: ServiceSpec | None, err: ServiceError, request_id: str) -> Response:
        raise NotImplementedError

    def open_stream(
        self, spec: ServiceSpec, op: OperationModel, request_id: str, initial: dict[str, Any] | None = None
    ) -> tuple[Headers, bytes]:
        """Response headers of an event stream and its first bytes (b"" when the protocol sends none); `initial`
        holds the output's members that are not the stream."""
        raise errors.not_implemented(f"{op.name} on this protocol")

    def frame_event(self, spec: ServiceSpec, op: OperationModel, event: StreamEvent) -> bytes:
        raise NotImplementedError


def unknown_operation(spec: ServiceSpec, name: str, query: bool = False) -> ServiceError:
    """The error for an operation this broker does not serve: AWS's when the model has no such operation."""
    if name in spec.model.operation_names:
        return errors.not_implemented(name)
    if query:
        return errors.invalid_action(name)
    return errors.unknown_operation(f"Unknown operation {name}.")
