"""Whether SNS may deliver to a queue or function of another account than the topic's.

With auth = "sigv4", as on AWS, the target's resource policy must allow the service principal sns.amazonaws.com to
act on it (sqs:SendMessage for a queue, lambda:InvokeFunction for a function), with the topic as aws:SourceArn and
its owner as aws:SourceAccount. AWS checks this when it delivers, not at Subscribe: a refused delivery is a
client-side error, not retried, that sends the message to the subscription's dead-letter queue (itself a queue that
must grant the same) or drops it; the publisher sees nothing. A target in the topic's own account needs no grant
(the broker evaluates no identity policies), and with auth = "none" nothing is checked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from broker.auth.resource_policy import allows
from broker.identity import Identity
from broker.services.sqs.queues import Queue

log = logging.getLogger("broker.sns.grants")

SERVICE = "sns.amazonaws.com"
# The caller a policy is evaluated for: a service principal, which only "*" or {"Service": SERVICE} names.
_CALLER = Identity(account="", user_name="", principal_arn=f"service:{SERVICE}")


def may_deliver(topic_arn: str, target_account: str, policy: str | None, action: str, resource_arn: str) -> bool:
    """Whether the topic may `action` on a target of `target_account` whose resource policy is `policy`."""
    topic_account = topic_arn.split(":")[4]
    if target_account == topic_account:
        return True
    context = {"aws:PrincipalServiceName": SERVICE, "aws:SourceArn": topic_arn, "aws:SourceAccount": topic_account}
    if allows(policy, _CALLER, action, resource_arn, context):
        return True
    log.info("SNS delivery from %s to %s refused: no resource policy allows %s", topic_arn, resource_arn, action)
    return False


def may_send(topic_arn: str, queue: Queue) -> bool:
    """Whether the topic may send to the queue (its endpoint or dead-letter queue)."""
    return may_deliver(topic_arn, queue.account, queue.attrs.get("Policy"), "sqs:SendMessage", queue.arn)


def granted_queues(topic_arn: str, queues: Mapping[str, Queue | None]) -> dict[str, Queue | None]:
    """The queues of a topic's subscriptions, those it may not send to as None (as if they were gone)."""
    return {arn: q if q is None or may_send(topic_arn, q) else None for arn, q in queues.items()}
