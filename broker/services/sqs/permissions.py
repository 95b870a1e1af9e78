"""AddPermission / RemovePermission: statements in the queue's Policy attribute, labelled by Sid."""

from __future__ import annotations

import json

from broker import clock
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.sqs import store
from broker.services.sqs.errors import invalid_parameter
from broker.services.sqs.queues import Queue, resolve

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


async def add_permission(ctx: RequestContext, p: dict) -> dict:
    label = p["Label"]
    if not label or len(label) > 80 or set(label) - LABEL_CHARS:
        raise invalid_parameter(
            f"Value {label} for parameter Label is invalid. Reason: Can only include alphanumeric characters, "
            "hyphens, or underscores. 1 to 80 in length."
        )
    accounts = p["AWSAccountIds"]
    actions = p["Actions"]
    if not accounts:
        raise ServiceError("MissingParameter", "The request must contain the parameter AWSAccountIds.")
    if not actions:
        raise ServiceError("MissingParameter", "The request must contain the parameter Actions.")
    for account in accounts:
        if not (account.isdigit() and len(account) == 12):
            raise invalid_parameter(f"Value {account} for parameter AWSAccountId is invalid.")
    for action in actions:
        if action not in ACTIONS:
            raise invalid_parameter(
                f"Value SQS:{action} for parameter ActionName is invalid. Reason: Only the "
                "queue owner is allowed to invoke this action."
            )
    queue = await resolve(ctx, p["QueueUrl"])
    await ctx.env.db.write(_change, queue, label, accounts, actions, clock.now_ms())
    return {}


async def remove_permission(ctx: RequestContext, p: dict) -> dict:
    queue = await resolve(ctx, p["QueueUrl"])
    await ctx.env.db.write(_change, queue, p["Label"], None, None, clock.now_ms())
    return {}


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _change(
    tx,
    queue: Queue,
    label: str,
    accounts: list[str] | None,
    actions: list[str] | None,  # noqa: ANN001
    now: int,
) -> None:
    """Add (accounts given) or remove the statement `label`, reading the policy inside the transaction."""
    row = store.get_queue(tx.conn, queue.account, queue.region, queue.name)
    if row is None:
        raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
    policy_text = json.loads(row["attributes"]).get("Policy")
    policy = (
        json.loads(policy_text)
        if policy_text
        else {"Version": "2012-10-17", "Id": f"{queue.arn}/SQSDefaultPolicy", "Statement": []}
    )
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    exists = any(st.get("Sid") == label for st in statements)
    if accounts is not None:
        if exists:
            raise invalid_parameter(f"Value {label} for parameter Label is invalid. Reason: Already exists.")
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
            raise invalid_parameter(
                f"Value {label} for parameter Label is invalid. Reason: can't find label on existing policy."
            )
        statements = [st for st in statements if st.get("Sid") != label]
    policy["Statement"] = statements
    store.set_attributes(tx, queue.id, {"Policy": json.dumps(policy) if statements else ""}, now)
    tx.wake(queue.cache_key)
