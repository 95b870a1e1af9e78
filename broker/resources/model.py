"""The `resources` setting: what a user declares in the configuration, in the configuration's own spelling
(snake_case keys; attribute and tag maps as AWS names them). Every value is checked again by the AWS operation
that creates the resource, so this model only gives the declaration its shape."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ACCOUNT = r"^\d{12}$"
_REGION = r"^[a-z]{2}(-[a-z]+)+-\d+$"


def _as_text(value: Any) -> Any:
    """An attribute value as the string AWS takes: TOML numbers and booleans as written, tables and arrays
    (a Policy, a RedrivePolicy, a FilterPolicy) as JSON text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


class Declared(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Where the resource lives; default_account / default_region when left out.
    account: str | None = Field(None, pattern=_ACCOUNT)
    region: str | None = Field(None, pattern=_REGION)


class _WithAttributes(Declared):
    name: str
    attributes: dict[str, str] = {}
    tags: dict[str, str] = {}

    @field_validator("attributes", mode="before")
    @classmethod
    def _attribute_text(cls, v: Any) -> Any:
        return {k: _as_text(x) for k, x in v.items()} if isinstance(v, dict) else v


class QueueDeclaration(_WithAttributes):
    """An SQS queue (CreateQueue's Attributes and tags); a name ending in .fifo makes a FIFO queue."""


class SubscriptionDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protocol: str
    # An ARN, a URL or an address; for "sqs" and "lambda" also the name of a queue or function of the topic's
    # account and region.
    endpoint: str
    attributes: dict[str, str] = {}

    @field_validator("attributes", mode="before")
    @classmethod
    def _attribute_text(cls, v: Any) -> Any:
        return {k: _as_text(x) for k, x in v.items()} if isinstance(v, dict) else v


class TopicDeclaration(_WithAttributes):
    """An SNS topic and its subscriptions; a name ending in .fifo makes a FIFO topic."""

    subscriptions: list[SubscriptionDeclaration] = []


class StreamDeclaration(Declared):
    """A Kinesis stream: `shard_count` shards (1 when neither it nor `mode` is given), or `mode = "ON_DEMAND"`."""

    name: str
    shard_count: int | None = None
    mode: Literal["PROVISIONED", "ON_DEMAND"] | None = None
    tags: dict[str, str] = {}


class FunctionDeclaration(Declared):
    """A Lambda function whose code is a directory (zipped at start) or a .zip file; a relative path is taken from
    the directory `broker serve` runs in. `parameters` holds any other CreateFunction member, as AWS spells it."""

    name: str
    runtime: str
    handler: str
    code: str
    role: str = ""  # default: arn:aws:iam::<account>:role/broker-lambda
    environment: dict[str, str] = {}
    timeout: int | None = None
    memory_size: int | None = None
    parameters: dict[str, Any] = {}

    @field_validator("environment", mode="before")
    @classmethod
    def _environment_text(cls, v: Any) -> Any:
        return {k: _as_text(x) for k, x in v.items()} if isinstance(v, dict) else v


class MappingDeclaration(Declared):
    """A Lambda event source mapping from a queue or stream (an ARN, or the name of a queue or stream of the
    mapping's account and region) to a function. `parameters` holds any other CreateEventSourceMapping member."""

    function: str
    source: str
    batch_size: int | None = None
    enabled: bool = True
    # Streams only; TRIM_HORIZON when left out (a declared stream starts empty, so nothing old is replayed).
    starting_position: Literal["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"] | None = None
    parameters: dict[str, Any] = {}


class Resources(BaseModel):
    """`[resources]`: created at start when missing (see docs/operations.md, "Startup resources")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queues: list[QueueDeclaration] = []
    topics: list[TopicDeclaration] = []
    streams: list[StreamDeclaration] = []
    functions: list[FunctionDeclaration] = []
    event_source_mappings: list[MappingDeclaration] = []

    @model_validator(mode="before")
    @classmethod
    def _from_json(cls, data: Any) -> Any:
        # BROKER_RESOURCES carries the same document as JSON.
        if isinstance(data, str):
            try:
                return json.loads(data) if data.strip() else {}
            except ValueError:
                raise ValueError('must be a JSON object such as {"queues": [{"name": "orders"}]}') from None
        return data

    @property
    def declared(self) -> int:
        return (
            len(self.queues)
            + len(self.topics)
            + len(self.streams)
            + len(self.functions)
            + len(self.event_source_mappings)
        )
