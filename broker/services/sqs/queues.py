"""Resolving queue URLs to queues, with a small per-process cache kept coherent across processes.

AWS itself documents that attribute changes and deletions can take up to 60 seconds to be seen everywhere; we do
far better: every change is broadcast at commit and drops the entry in every process, and entries also expire
after a couple of seconds as a safety net.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection

from broker import paging
from broker.auth.resource_policy import crosses, denial, no_grant, not_authorized
from broker.cache import TtlCache
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.base import Slot
from broker.services.sqs import store
from broker.services.sqs.errors import access_denied, invalid_next_token, invalid_value, queue_does_not_exist
from broker.services.sqs.validation import ANY_QUEUE_NAME, DEFAULTS, FIFO_DEFAULTS, is_account_id

CACHE_PREFIX = "sqs:cache:"
QUEUES: Slot[TtlCache[Queue]] = Slot("sqs.queues")  # definitions by cache_key, per process
# Actions a queue policy cannot grant to another account (the SQS developer guide, "Limitations of Amazon SQS
# custom policies": cross-account permissions don't apply to them).
OWNER_ONLY = frozenset(
    f"sqs:{a}"
    for a in (
        "AddPermission",
        "CancelMessageMoveTask",
        "CreateQueue",
        "DeleteQueue",
        "ListMessageMoveTasks",
        "ListQueues",
        "ListQueueTags",
        "RemovePermission",
        "SetQueueAttributes",
        "StartMessageMoveTask",
        "TagQueue",
        "UntagQueue",
    )
)


@dataclass(slots=True)
class Queue:
    id: int
    account: str
    region: str
    name: str
    fifo: bool
    attrs: dict[str, str]
    created_at: int
    modified_at: int
    visibility_timeout: int
    delay: int
    max_size: int
    retention: int
    wait: int
    content_dedup: bool = False
    group_dedup: bool = False  # DeduplicationScope=messageGroup
    dlq_arn: str | None = None
    max_receives: int = 0

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{self.name}"

    @property
    def cache_key(self) -> str:
        return cache_key(self.account, self.region, self.name)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Queue:
        fifo = bool(row["fifo"])
        attrs = {**DEFAULTS, **(FIFO_DEFAULTS if fifo else {}), **json.loads(row["attributes"])}
        redrive = json.loads(attrs["RedrivePolicy"]) if attrs.get("RedrivePolicy") else None
        return cls(
            id=row["id"],
            account=row["account"],
            region=row["region"],
            name=row["name"],
            fifo=bool(row["fifo"]),
            attrs=attrs,
            created_at=row["created_at"],
            modified_at=row["modified_at"],
            visibility_timeout=int(attrs["VisibilityTimeout"]),
            delay=int(attrs["DelaySeconds"]),
            max_size=int(attrs["MaximumMessageSize"]),
            retention=int(attrs["MessageRetentionPeriod"]),
            wait=int(attrs["ReceiveMessageWaitTimeSeconds"]),
            content_dedup=attrs.get("ContentBasedDeduplication") == "true",
            group_dedup=attrs.get("DeduplicationScope") == "messageGroup",
            dlq_arn=redrive["deadLetterTargetArn"] if redrive else None,
            max_receives=redrive["maxReceiveCount"] if redrive else 0,
        )


def cache_key(account: str, region: str, name: str) -> str:
    return f"{CACHE_PREFIX}{account}:{region}:{name}"


def parse_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of an SQS queue ARN, or None."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not ANY_QUEUE_NAME.match(parts[5]):
        return None
    if not is_account_id(parts[4]) or not parts[3]:
        return None
    return parts[3], parts[4], parts[5]


def queue_by_arn(conn: Connection, arn: str) -> Queue | None:
    """The queue an ARN names, read now (for work outside a request, on the writer thread or in a job)."""
    parsed = parse_arn(arn)
    if parsed is None:
        return None
    region, account, name = parsed
    row = store.get_queue(conn, account, region, name)
    return Queue.from_row(row) if row else None


async def by_arn(ctx: RequestContext, arn: str, action: str | None = None) -> Queue | None:
    """The queue an ARN names (in its own region), or None if there is none. With an `action`, the ARN is one the
    caller named: AccessDenied if it may not `action` on it (see `lookup`)."""
    parsed = parse_arn(arn)
    if parsed is None:
        return None
    region, account, name = parsed
    try:
        queue = await _lookup(ctx, account, region, name)
    except ServiceError:
        if action is not None and crosses(ctx, account):
            raise _denied(ctx, f"arn:aws:sqs:{region}:{account}:{name}", action, no_grant(action)) from None
        return None
    if action is not None:
        authorize(ctx, queue, action)
    return queue


def parse_queue_url(url: str, account: str) -> tuple[str, str]:
    """(account, name) a QueueUrl names: any URL whose path ends in /<account>/<name> (whatever its host), or a bare
    queue name (of `account`, the caller's), as AWS accepts. Anything else names no queue."""
    if "/" not in url:
        return account, url
    try:
        path = urlsplit(url).path if "://" in url else url
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        raise queue_does_not_exist() from None
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2 or not is_account_id(parts[-2]):
        raise queue_does_not_exist()
    return parts[-2], parts[-1]


_REGIONAL_HOST = re.compile(r"^sqs\.[a-z]{2}(?:-[a-z]+)+-\d+\.")


def queue_url(ctx: RequestContext, account: str, name: str, region: str | None = None) -> str:
    """A queue's URL: http://sqs.<region>.<host>/<account>/<name> (sqs_queue_url_style "regional", AWS's form),
    or http://<host>/<account>/<name> ("host"); <host> is public_host, else the Host the client addressed (in the
    regional form without an sqs.<region>. it already starts with). An IP address can take no subdomain that
    resolves, so for one the regional form carries the region in the path: http://<ip>/queue/<region>/<account>/
    <name> (only the last two path parts name the queue, so every form reaches it)."""
    settings = ctx.env.settings
    host = settings.public_host or ctx.host
    if settings.sqs_queue_url_style == "regional":
        if _is_ip_host(host):
            return f"http://{host}/queue/{region or ctx.region}/{account}/{name}"
        host = f"sqs.{region or ctx.region}.{_REGIONAL_HOST.sub('', host, count=1)}"
    return f"http://{host}/{account}/{name}"


def _is_ip_host(host: str) -> bool:
    """Whether a Host header (with or without a port) names an IP address rather than a DNS name."""
    if host.startswith("["):
        return True
    try:
        ipaddress.IPv4Address(host.rsplit(":", 1)[0])
    except ValueError:
        return False
    return True


async def resolve(ctx: RequestContext, url: str, action: str) -> Queue:
    """The queue a QueueUrl names, if the caller may `action` on it (see `lookup`)."""
    account, name = parse_queue_url(url, ctx.account)
    return await lookup(ctx, account, name, action)


async def lookup(ctx: RequestContext, account: str, name: str, action: str) -> Queue:
    """The queue `name` of `account`. A verified caller of another account needs the queue policy's grant of
    `action` ("sqs:SendMessage"), else AccessDenied, also for a queue that does not exist (another account learns
    nothing of its names); the owner's callers are refused only by an explicit Deny."""
    if not ctx.authenticated:
        return await _lookup(ctx, account, ctx.region, name)
    try:
        queue = await _lookup(ctx, account, ctx.region, name)
    except ServiceError:
        if crosses(ctx, account):
            raise _denied(ctx, f"arn:aws:sqs:{ctx.region}:{account}:{name}", action, no_grant(action)) from None
        raise
    authorize(ctx, queue, action)
    return queue


def authorize(ctx: RequestContext, queue: Queue, action: str) -> None:
    """AccessDenied unless the caller may `action` on the queue."""
    if not ctx.authenticated:
        return
    policy = queue.attrs.get("Policy")
    if action in OWNER_ONLY and crosses(ctx, queue.account):
        policy = None  # no policy grants these to another account
    reason = denial(ctx, queue.account, policy, action, queue.arn)
    if reason is not None:
        raise _denied(ctx, queue.arn, action, reason)


def _denied(ctx: RequestContext, arn: str, action: str, reason: str) -> ServiceError:
    # SQS spells the action in lower case in this message ("sqs:sendmessage").
    return access_denied(not_authorized(ctx.caller, action.lower(), arn, reason.replace(action, action.lower())))


async def _lookup(ctx: RequestContext, account: str, region: str, name: str) -> Queue:
    if not ANY_QUEUE_NAME.match(name) or not is_account_id(account):
        raise queue_does_not_exist()
    key = cache_key(account, region, name)
    cache = ctx.env.get(QUEUES)
    queue = cache.get(key) or await cache.load(key, lambda: load(ctx, account, region, name))
    if queue is None:
        raise queue_does_not_exist()
    return queue


async def load(ctx: RequestContext, account: str, region: str, name: str) -> Queue | None:
    """The queue as stored now, not from the cache."""
    row = await ctx.env.db.read(store.get_queue, account, region, name)
    return None if row is None else Queue.from_row(row)


def decode_token(token: str) -> str:
    """The queue name a NextToken continues after (tokens are ours: base64 of {"after": name})."""
    after = paging.after_of(token)
    if not isinstance(after, str) or not ANY_QUEUE_NAME.match(after):
        raise invalid_next_token()
    return after


async def name_page(
    ctx: RequestContext, p: dict[str, Any], fetch: Callable[[Connection, str | None, int], list[str]]
) -> tuple[list[str], str | None]:
    """One page of queue names (ListQueues, ListDeadLetterSourceQueues): MaxResults 1-1000, NextToken only when
    MaxResults was given and more names follow. `fetch(conn, after, limit)` reads the names."""
    max_results = p.get("MaxResults")
    if max_results is not None and not 1 <= max_results <= 1000:
        raise invalid_value("MaxResults", max_results, "MaxResults must be an integer between 1 and 1000.")
    after = decode_token(p["NextToken"]) if p.get("NextToken") else None
    limit = max_results or 1000
    names = await ctx.env.db.read(fetch, after, limit + 1)
    token = paging.after_token(names[limit - 1]) if max_results is not None and len(names) > limit else None
    return names[:limit], token
