"""The EventBridge Scheduler service spec: botocore's "scheduler" model (rest-json, paths /schedules,
/schedule-groups and /tags — the last shared with API Gateway, told apart by the signing name)."""

from __future__ import annotations

from broker.protocol.spec import Handler, ServiceSpec, load_model
from broker.services.scheduler import group_operations, schedule_operations


def build() -> ServiceSpec:
    handlers: dict[str, Handler] = {**schedule_operations.HANDLERS, **group_operations.HANDLERS}
    return ServiceSpec(
        name="scheduler",
        model=load_model("scheduler"),
        handlers=handlers,
        enum_checked=frozenset(handlers),
        # AWS's validation messages name members in camel case ("Value '...' at 'name' failed to satisfy ...").
        validation_names="camel",
        # PostgreSQL text cannot hold NUL: such a member is refused like any other malformed one.
        refuse_nul=True,
    )
