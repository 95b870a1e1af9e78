"""AddPermission / RemovePermission: statements in the queue's Policy attribute, labelled by Sid."""

from __future__ import annotations

import json
from typing import Any

from broker import clock
from broker.context import RequestContext
from broker.services.sqs import store
from broker.services.sqs.errors import invalid_parameter, invalid_value, missing_parameter, queue_does_not_exist
from broker.services.sqs.queues import Queue, resolve
from broker.services.sqs.validation import is_account_id
from broker.storage.db import Tx

# Actions AddPermission accepts (AWS's SQS API reference); "*" grants them all.
ACTIONS = {
    "*",
    "SendMessage",
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "PurgeQueue",
    "ListQueueTags",
    "SendMessageBatch",
    "DeleteMessageBatch",
    "ChangeMessageVisibilityBatch",
    "StartMessageMoveTask",
    "ListMessageMoveTasks",
    "CancelMessageMoveTask",
}
LABEL_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


async def add_permission(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    label = p["Label"]
    if not label or len(label) > 80 or set(label) - LABEL_CHARS:
        raise invalid_value(
            "Label", label, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length."
        )
    accounts = p["AWSAccountIds"]
    actions = p["Actions"]
    if not accounts:
        raise missing_parameter("AWSAccountIds")
    if not actions:
        raise missing_parameter("Actions")
    for account in accounts:
        if not is_account_id(account):
            raise invalid_parameter(f"Value {account} for parameter AWSAccountId is invalid.")
    for action in actions:
        if action not in ACTIONS:
            raise invalid_value("ActionName", f"SQS:{action}", "Only the queue owner is allowed to invoke this action.")
    queue = await resolve(ctx, p["QueueUrl"], "sqs:AddPermission")
    await ctx.env.db.write(_change, queue, label, (accounts, actions), clock.now_ms())
    return {}


async def remove_permission(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue = await resolve(ctx, p["QueueUrl"], "sqs:RemovePermission")
    await ctx.env.db.write(_change, queue, p["Label"], None, clock.now_ms())
    return {}


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _change(tx: Tx, queue: Queue, label: str, grant: tuple[list[str], list[str]] | None, now: int) -> None:
    """Add (grant = (accounts, actions)) or remove (grant None) the statement `label`, reading the policy inside
    the transaction."""
    row = store.get_queue(tx.conn, queue.account, queue.region, queue.name)
    if row is None:
        raise queue_does_not_exist()
    policy_text = json.loads(row["attributes"]).get("Policy")
    policy: dict[str, Any] = (
        json.loads(policy_text)
        if policy_text
        else {"Version": "2008-10-17", "Id": f"{queue.arn}/SQSDefaultPolicy", "Statement": []}
    )
    statements: list[dict[str, Any]] | dict[str, Any] = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    exists = any(st.get("Sid") == label for st in statements)
    if grant is not None:
        accounts, actions = grant
        if exists:
            raise invalid_value("Label", label, "Already exists.")
        statements.append(
            {
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": _one_or_list([f"arn:aws:iam::{a}:root" for a in accounts])},
                "Action": _one_or_list([f"SQS:{a}" for a in actions]),
                "Resource": queue.arn,
            }
        )
    else:
        if not exists:
            raise invalid_value("Label", label, "can't find label.")
        statements = [st for st in statements if st.get("Sid") != label]
    policy["Statement"] = statements
    store.set_attributes(tx, queue.id, {"Policy": json.dumps(policy) if statements else ""}, now)
    tx.wake(queue.cache_key)
