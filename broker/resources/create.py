"""Creating the declared resources at start, through the services' own operations.

`broker serve` runs `create` after the migrations and before any worker starts, under `lock.exclusive`, so that
N workers and N nodes create each resource once. Every resource goes through the AWS operation a client would call
(input checked against the botocore model, then the handler), in the resource's account and region, so its checks,
error texts and durability are the API's. What exists is kept (see docs/operations.md, "Startup resources"):
queues, topics and subscriptions get their declared attributes and tags set again, functions their declared code
and configuration when those differ; streams and mappings are left as they are.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from broker.config import Settings
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.protocol.spec import InputConverter, ServiceSpec
from broker.resources.lock import exclusive
from broker.resources.model import (
    Declared,
    FunctionDeclaration,
    MappingDeclaration,
    QueueDeclaration,
    StreamDeclaration,
    TopicDeclaration,
)
from broker.resources.packages import PackageError, package
from broker.runtime import Runtime

log = logging.getLogger("broker.resources")

# The codes each service answers a lookup of a resource that does not exist with.
_MISSING = {"QueueDoesNotExist", "NotFound", "ResourceNotFoundException"}
# What ListSubscriptionsByTopic answers for the ARN of a subscription not confirmed yet.
PENDING_ARN = "PendingConfirmation"
# Attributes a resource takes only when it is created.
_CREATE_ONLY = {"FifoQueue", "FifoTopic"}


class DeclarationError(Exception):
    """A declared resource could not be created: the start fails with this one line."""


@dataclass
class Outcome:
    created: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)


def create(settings: Settings) -> Outcome:
    """Create what `settings.resources` declares and is missing (DeclarationError on the first failure)."""
    with exclusive(settings):
        return asyncio.run(_create(settings))


async def _create(settings: Settings) -> Outcome:
    runtime = Runtime(settings)
    await runtime.open()
    try:
        return await _Creator(runtime).run()
    finally:
        await runtime.close()


class _Creator:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.specs: dict[str, ServiceSpec] = {spec.name: spec for spec in runtime.specs}
        self.outcome = Outcome()

    async def run(self) -> Outcome:
        declared = self.settings.resources
        if declared.topics:
            # Confirmation requests (http, https, email, another account's queue) are signed with SNS's key.
            from broker.services.sns.signing import SIGNER

            await asyncio.get_running_loop().run_in_executor(
                None, self.runtime.get(SIGNER).load, self.runtime.db, self.settings.sns_signing_key_bits
            )
        # In dependency order: subscriptions name queues and functions, mappings name all three.
        steps: list[tuple[str, list[Any], Any]] = [
            ("queues", declared.queues, self._queue),
            ("streams", declared.streams, self._stream),
            ("functions", declared.functions, self._function),
            ("topics", declared.topics, self._topic),
            ("event_source_mappings", declared.event_source_mappings, self._mapping),
        ]
        for table, items, make in steps:
            for i, item in enumerate(items):
                where = f"resources.{table}[{i}]"
                try:
                    await make(item)
                except ServiceError as e:
                    raise DeclarationError(f"{where} {_label(item)}: {e.code}: {e.message}") from None
                except (PackageError, DeclarationError) as e:
                    raise DeclarationError(f"{where} {_label(item)}: {e}") from None
        return self.outcome

    # -- calling operations ---------------------------------------------------------------------------------
    def _where(self, d: Declared) -> tuple[str, str]:
        return d.account or self.settings.default_account, d.region or self.settings.default_region

    async def _call(self, service: str, operation: str, params: dict[str, Any], where: tuple[str, str]) -> Any:
        spec = self.specs[service]
        op = spec.model.operation_model(operation)
        checked = InputConverter(spec, textual=False, enums=operation in spec.enum_checked).convert(
            op.input_shape, params
        )
        host = f"{self.settings.host}:{self.settings.port}"
        ctx = RequestContext(env=self.runtime, account=where[0], region=where[1], host=host)
        return await spec.handlers[operation](ctx, checked) or {}

    async def _find(self, service: str, operation: str, params: dict[str, Any], where: tuple[str, str]) -> Any:
        """The operation's answer, or None when it says the resource does not exist."""
        try:
            return await self._call(service, operation, params, where)
        except ServiceError as e:
            if e.code in _MISSING:
                return None
            raise

    def _done(self, created: bool, what: str, where: tuple[str, str]) -> None:
        line = f"{what} ({where[0]}/{where[1]})"
        (self.outcome.created if created else self.outcome.present).append(line)
        log.info("%s %s", "created" if created else "present", line)

    # -- SQS -------------------------------------------------------------------------------------------------
    async def _queue(self, d: QueueDeclaration) -> None:
        w = self._where(d)
        attrs = dict(d.attributes)
        if d.name.endswith(".fifo"):
            attrs.setdefault("FifoQueue", "true")
        found = await self._find("sqs", "GetQueueUrl", {"QueueName": d.name}, w)
        if found is None:
            params: dict[str, Any] = {"QueueName": d.name, "Attributes": attrs}
            if d.tags:
                params["tags"] = d.tags
            await self._call("sqs", "CreateQueue", params, w)
            self._done(True, f"queue {d.name}", w)
            return
        url = found["QueueUrl"]
        settable = {k: v for k, v in attrs.items() if k not in _CREATE_ONLY}
        if settable:
            await self._call("sqs", "SetQueueAttributes", {"QueueUrl": url, "Attributes": settable}, w)
        if d.tags:
            await self._call("sqs", "TagQueue", {"QueueUrl": url, "Tags": d.tags}, w)
        self._done(False, f"queue {d.name}", w)

    # -- SNS -------------------------------------------------------------------------------------------------
    async def _topic(self, d: TopicDeclaration) -> None:
        w = self._where(d)
        arn = f"arn:aws:sns:{w[1]}:{w[0]}:{d.name}"
        attrs = dict(d.attributes)
        if d.name.endswith(".fifo"):
            attrs.setdefault("FifoTopic", "true")
        tags = [{"Key": k, "Value": v} for k, v in d.tags.items()]
        if await self._find("sns", "GetTopicAttributes", {"TopicArn": arn}, w) is None:
            params: dict[str, Any] = {"Name": d.name, "Attributes": attrs}
            if tags:
                params["Tags"] = tags
            await self._call("sns", "CreateTopic", params, w)
            self._done(True, f"topic {d.name}", w)
        else:
            for name, value in attrs.items():
                if name not in _CREATE_ONLY:
                    params = {"TopicArn": arn, "AttributeName": name, "AttributeValue": value}
                    await self._call("sns", "SetTopicAttributes", params, w)
            if tags:
                await self._call("sns", "TagResource", {"ResourceArn": arn, "Tags": tags}, w)
            self._done(False, f"topic {d.name}", w)
        existing = await self._subscriptions(arn, w)
        for sub in d.subscriptions:
            protocol = sub.protocol.lower()
            endpoint = _endpoint(protocol, sub.endpoint, w)
            what = f"subscription {protocol}:{endpoint} of topic {d.name}"
            sub_arn = existing.get((protocol, endpoint))
            params = {"TopicArn": arn, "Protocol": protocol, "Endpoint": endpoint, "ReturnSubscriptionArn": True}
            if sub_arn is None:
                if sub.attributes:
                    params["Attributes"] = dict(sub.attributes)
                await self._call("sns", "Subscribe", params, w)
                self._done(True, what, w)
                continue
            if sub_arn == PENDING_ARN:
                # Listings hide an unconfirmed subscription's ARN. Subscribing again to the same endpoint without
                # attributes is idempotent (no new subscription, no attributes compared) and, with
                # ReturnSubscriptionArn, names it: its declared attributes are then set as a confirmed one's.
                sub_arn = (await self._call("sns", "Subscribe", params, w))["SubscriptionArn"]
                what += " (pending confirmation)"
            for name, value in sub.attributes.items():
                params = {"SubscriptionArn": sub_arn, "AttributeName": name, "AttributeValue": value}
                await self._call("sns", "SetSubscriptionAttributes", params, w)
            self._done(False, what, w)

    async def _subscriptions(self, topic_arn: str, w: tuple[str, str]) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        params: dict[str, Any] = {"TopicArn": topic_arn}
        while True:
            page = await self._call("sns", "ListSubscriptionsByTopic", params, w)
            for s in page.get("Subscriptions", []):
                found[(s["Protocol"], s["Endpoint"])] = s["SubscriptionArn"]
            if not page.get("NextToken"):
                return found
            params["NextToken"] = page["NextToken"]

    # -- Kinesis ---------------------------------------------------------------------------------------------
    async def _stream(self, d: StreamDeclaration) -> None:
        w = self._where(d)
        if await self._find("kinesis", "DescribeStreamSummary", {"StreamName": d.name}, w) is not None:
            self._done(False, f"stream {d.name}", w)
            return
        params: dict[str, Any] = {"StreamName": d.name}
        if d.mode is not None:
            params["StreamModeDetails"] = {"StreamMode": d.mode}
        if d.shard_count is not None or d.mode != "ON_DEMAND":
            params["ShardCount"] = d.shard_count if d.shard_count is not None else 1
        if d.tags:
            params["Tags"] = d.tags
        await self._call("kinesis", "CreateStream", params, w)
        self._done(True, f"stream {d.name}", w)

    # -- Lambda ----------------------------------------------------------------------------------------------
    async def _function(self, d: FunctionDeclaration) -> None:
        w = self._where(d)
        zipped = await asyncio.get_running_loop().run_in_executor(None, package, d.code)
        config: dict[str, Any] = {"Runtime": d.runtime, "Handler": d.handler}
        if d.role:
            config["Role"] = d.role
        if d.environment:
            config["Environment"] = {"Variables": dict(d.environment)}
        if d.timeout is not None:
            config["Timeout"] = d.timeout
        if d.memory_size is not None:
            config["MemorySize"] = d.memory_size
        found = await self._find("lambda", "GetFunction", {"FunctionName": d.name}, w)
        if found is None:
            params = {
                "Role": f"arn:aws:iam::{w[0]}:role/broker-lambda",
                **d.parameters,
                **config,
                "FunctionName": d.name,
                "Code": {"ZipFile": zipped},
            }
            await self._call("lambda", "CreateFunction", params, w)
            self._done(True, f"function {d.name}", w)
            return
        current = found["Configuration"]
        changed = {k: v for k, v in config.items() if _current(current, k) != v}
        if changed:
            await self._call("lambda", "UpdateFunctionConfiguration", {"FunctionName": d.name, **changed}, w)
        if current.get("CodeSha256") != base64.b64encode(hashlib.sha256(zipped).digest()).decode():
            await self._call("lambda", "UpdateFunctionCode", {"FunctionName": d.name, "ZipFile": zipped}, w)
            changed["Code"] = True
        self._done(False, f"function {d.name}" + (f" (updated {', '.join(changed)})" if changed else ""), w)

    async def _mapping(self, d: MappingDeclaration) -> None:
        w = self._where(d)
        source = await self._source_arn(d.source, w)
        what = f"event source mapping {source} -> {d.function}"
        listed = await self._call(
            "lambda", "ListEventSourceMappings", {"FunctionName": d.function, "EventSourceArn": source}, w
        )
        if listed.get("EventSourceMappings"):
            self._done(False, what, w)
            return
        params: dict[str, Any] = {**d.parameters, "FunctionName": d.function, "EventSourceArn": source}
        params["Enabled"] = d.enabled
        if d.batch_size is not None:
            params["BatchSize"] = d.batch_size
        if source.startswith("arn:aws:kinesis:"):
            params.setdefault("StartingPosition", d.starting_position or "TRIM_HORIZON")
        elif d.starting_position is not None:
            params["StartingPosition"] = d.starting_position
        await self._call("lambda", "CreateEventSourceMapping", params, w)
        self._done(True, what, w)

    async def _source_arn(self, source: str, w: tuple[str, str]) -> str:
        if source.startswith("arn:"):
            return source
        if await self._find("sqs", "GetQueueUrl", {"QueueName": source}, w) is not None:
            return f"arn:aws:sqs:{w[1]}:{w[0]}:{source}"
        stream = await self._find("kinesis", "DescribeStreamSummary", {"StreamName": source}, w)
        if stream is not None:
            return str(stream["StreamDescriptionSummary"]["StreamARN"])
        raise DeclarationError(f"no queue or stream named {source!r} in {w[0]}/{w[1]}")


def _label(item: Any) -> str:
    name = getattr(item, "name", None)
    if name is not None:
        return repr(name)
    return f"{getattr(item, 'source', '?')!r} -> {getattr(item, 'function', '?')!r}"


def _endpoint(protocol: str, endpoint: str, w: tuple[str, str]) -> str:
    """A queue's or function's name as the ARN Subscribe takes."""
    if endpoint.startswith("arn:"):
        return endpoint
    if protocol == "sqs":
        return f"arn:aws:sqs:{w[1]}:{w[0]}:{endpoint}"
    if protocol == "lambda":
        return f"arn:aws:lambda:{w[1]}:{w[0]}:function:{endpoint}"
    return endpoint


def _current(config: dict[str, Any], key: str) -> Any:
    if key == "Environment":
        variables = (config.get("Environment") or {}).get("Variables")
        return {"Variables": variables} if variables else None
    return config.get(key)
