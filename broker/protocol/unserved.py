"""Requests for AWS services this broker does not serve (S3, DynamoDB, SSM, ...): answered with an error that
names the service, in that service's own protocol, so the client's SDK raises a readable error instead of failing
on an SQS-shaped answer.

A request names its service by its X-Amz-Target prefix or its SigV4 credential scope (the signing name). Those of
unserved services are looked up in the metadata of every botocore model (its protocols, target prefix, signing
name, full name), read once per process on the first such request.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote

import cbor2
from botocore.loaders import create_loader

from broker import errors
from broker.errors import ServiceError
from broker.protocol.base import HttpRequest, Response, Services, parse_credential
from broker.protocol.query import escape
from broker.protocol.spec import ServiceSpec

log = logging.getLogger("broker.gateway")

_REST = ("rest-json", "rest-xml")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a botocore model's metadata says about its wire format."""

    name: str  # botocore's folder name: "s3", "dynamodb"
    service_id: str  # "S3", "DynamoDB"
    full_name: str  # "Amazon Simple Storage Service"
    protocols: tuple[str, ...]  # the model's protocols, preferred first
    signing_name: str
    target_prefix: str
    json_version: str
    xmlns: str


@dataclass(frozen=True, slots=True)
class Index:
    by_signing_name: dict[str, list[ModelInfo]]
    by_target_prefix: dict[str, ModelInfo]


class Unserved:
    """Finds requests for services not served here and answers them."""

    def __init__(self, services: Services) -> None:
        self.signing_names = frozenset(services.by_name)
        self.target_prefixes = frozenset(services.by_target)
        self.served = ", ".join(_served_names(services.by_name.values()))

    def named(self, req: HttpRequest) -> tuple[str, str] | None:
        """("target", prefix) or ("scope", signing name) when the request names a service not served here; cheap,
        as it runs for every request."""
        target = req.headers.get(b"x-amz-target")
        if target is not None:
            prefix = target.rpartition(b".")[0].decode("latin-1")
            return None if prefix in self.target_prefixes else ("target", prefix)
        auth = req.headers.get(b"authorization")
        if auth is not None and auth.startswith(b"AWS "):  # Signature Version 2 in a header: only S3 has it
            return None if "s3" in self.signing_names else ("scope", "s3")
        if auth is not None:
            cred = parse_credential(auth.decode("latin-1"))
        elif b"X-Amz-Credential=" in req.query_string:  # a presigned URL
            value = req.query_string.split(b"X-Amz-Credential=", 1)[1].split(b"&", 1)[0]
            cred = parse_credential(unquote(value.decode("latin-1")))
        elif b"AWSAccessKeyId=" in req.query_string and b"SignatureVersion=" not in req.query_string:
            return None if "s3" in self.signing_names else ("scope", "s3")  # an S3 presigned URL (SigV2)
        else:
            return None
        if cred is None or cred[2] in self.signing_names:
            return None
        return "scope", cred[2]

    async def answer(self, named: tuple[str, str], req: HttpRequest, request_id: str) -> Response | None:
        """The error for the named service, or None when no model knows it (normal routing then answers)."""
        loop = asyncio.get_running_loop()
        index = await loop.run_in_executor(None, _index)
        kind, key = named
        if kind == "target":
            found = index.by_target_prefix.get(key)
            candidates = [found] if found else []
        else:
            candidates = index.by_signing_name.get(key, [])
        if not candidates:
            return None
        protocol, info = await loop.run_in_executor(None, _protocol, req, candidates)  # may read a model
        error = errors.service_not_provided(
            f"{info.service_id} ({info.full_name}) is not provided by this broker; it serves {self.served}."
        )
        return render(protocol, info, error, request_id)


def _served_names(specs: Iterable[ServiceSpec]) -> list[str]:
    names: list[str] = []
    for spec in specs:
        service_id = str(spec.model.metadata.get("serviceId") or spec.name)
        if service_id not in names:
            names.append(service_id)
    return names


def _protocol(req: HttpRequest, candidates: list[ModelInfo]) -> tuple[str, ModelInfo]:
    """The protocol the client speaks, told by the request itself (a model may offer several), and the model
    that fits it best among those sharing the signing name (SES v1 is query, SES v2 rest-json)."""
    if b"x-amz-target" in req.headers:
        return "json", candidates[0]
    if req.headers.get(b"smithy-protocol", b"").lower() == b"rpc-v2-cbor":
        return "smithy-rpc-v2-cbor", candidates[0]
    if b"Action=" in req.query_string or b"Action=" in req.body[:4096]:
        for info in candidates:
            if "ec2" in info.protocols:
                return "ec2", info
        return "query", next((i for i in candidates if "query" in i.protocols), candidates[0])
    rest = [(p, info) for info in candidates for p in info.protocols[:1] if p in _REST]
    if len(rest) > 1:  # several REST APIs sign alike (SES v2 and Pinpoint Email): the one whose paths fit
        return max(rest, key=lambda found: _path_fit(found[1].name, req.path))
    if rest:
        return rest[0]
    return candidates[0].protocols[0], candidates[0]


def _path_fit(name: str, path: str) -> int:
    """How long a literal start of one of the model's request URIs the path begins with."""
    return max((len(p) for p in _uri_prefixes(name) if path.startswith(p)), default=0)


@cache
def _uri_prefixes(name: str) -> tuple[str, ...]:
    model = create_loader().load_service_model(name, "service-2")
    uris = (op.get("http", {}).get("requestUri", "/") for op in model.get("operations", {}).values())
    return tuple({uri.split("{", 1)[0].split("?", 1)[0] for uri in uris})


def render(protocol: str, info: ModelInfo, err: ServiceError, request_id: str) -> Response:
    rid = request_id.encode()
    if protocol == "json":
        body = json.dumps({"__type": err.code, "message": err.message}).encode()
        ctype = f"application/x-amz-json-{info.json_version or '1.0'}".encode()
        return err.status, [(b"content-type", ctype), (b"x-amzn-requestid", rid)], body
    if protocol == "smithy-rpc-v2-cbor":
        body = cbor2.dumps({"__type": err.code, "message": err.message})
        headers = [(b"content-type", b"application/cbor"), (b"smithy-protocol", b"rpc-v2-cbor")]
        return err.status, [*headers, (b"x-amzn-requestid", rid)], body
    if protocol == "rest-json":
        headers = [(b"content-type", b"application/json"), (b"x-amzn-errortype", err.code.encode())]
        return err.status, [*headers, (b"x-amzn-requestid", rid)], json.dumps({"message": err.message}).encode()
    code, message = escape(err.code), escape(err.message)
    if protocol == "ec2":
        text = (
            f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
    elif protocol == "rest-xml":  # S3's form, which botocore reads for every rest-xml service
        text = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>{request_id}</RequestId></Error>"
        )
    else:  # query
        text = (
            f'<?xml version="1.0"?><ErrorResponse xmlns="{escape(info.xmlns)}"><Error><Type>Receiver</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        )
    headers = [(b"content-type", b"text/xml"), (b"x-amzn-requestid", rid), (b"x-amz-request-id", rid)]
    return err.status, headers, text.encode()


# -- the index of botocore's models ------------------------------------------------------------------------------
@cache
def _index() -> Index:
    by_signing_name: dict[str, list[ModelInfo]] = {}
    by_target_prefix: dict[str, ModelInfo] = {}
    loader = create_loader()
    for name in loader.list_available_services("service-2"):
        try:
            metadata = _metadata(loader.search_paths, name, loader.determine_latest_version(name, "service-2"))
        except (OSError, ValueError):
            log.warning("cannot read the metadata of botocore's %s model", name)
            continue
        if metadata is None:
            continue
        protocols = tuple(metadata.get("protocols") or [metadata.get("protocol", "json")])
        info = ModelInfo(
            name=name,
            service_id=str(metadata.get("serviceId") or name),
            full_name=str(metadata.get("serviceFullName") or name),
            protocols=protocols,
            signing_name=str(metadata.get("signingName") or metadata.get("endpointPrefix") or name),
            target_prefix=str(metadata.get("targetPrefix") or ""),
            json_version=str(metadata.get("jsonVersion") or ""),
            xmlns=str(metadata.get("xmlNamespace") or ""),
        )
        by_signing_name.setdefault(info.signing_name, []).append(info)
        if info.target_prefix:
            by_target_prefix.setdefault(info.target_prefix, info)
    for infos in by_signing_name.values():
        # The model named after its signing name first (s3 before s3control, ses before sesv2).
        infos.sort(key=lambda i: (i.name != i.signing_name, i.name))
    return Index(by_signing_name, by_target_prefix)


def _metadata(search_paths: list[str], name: str, version: str) -> dict[str, Any] | None:
    """A model's "metadata" object, read from the start of its file (botocore writes it before the operations),
    so indexing every model takes a fraction of a second instead of parsing hundreds of megabytes."""
    for base in search_paths:
        for file_name, opener in (("service-2.json.gz", gzip.open), ("service-2.json", open)):
            path = os.path.join(base, name, version, file_name)
            if not os.path.isfile(path):
                continue
            with opener(path, "rt", encoding="utf-8") as f:
                head = f.read(16384)
            start = head.find('"metadata"')
            if start >= 0:
                try:
                    value, _ = json.JSONDecoder().raw_decode(head[head.index("{", start) :])
                    if isinstance(value, dict):
                        return value
                except ValueError:
                    pass
            with opener(path, "rt", encoding="utf-8") as f:  # an unusual layout: read it whole
                whole = json.load(f).get("metadata")
            return whole if isinstance(whole, dict) else None
    return None
