"""Log groups and streams as the operations see them: their rows, their ARNs, and how requests name a group
(logGroupName, logGroupIdentifier as a name or an ARN, resourceArn)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.logs.errors import invalid_arn, invalid_identifier, name_and_identifier, name_or_identifier

# PutRetentionPolicy's allowed values (AWS API reference).
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
MAX_TAGS = 50
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    account: str
    region: str
    name: str
    created_at: int
    retention_days: int | None
    log_class: str
    kms_key_id: str | None
    deletion_protection: bool
    tags: dict[str, str]

    @property
    def arn(self) -> str:
        """The ARN without the trailing `:*` (logGroupArn; what tagging takes)."""
        return group_arn(self.region, self.account, self.name)


@dataclass(frozen=True, slots=True)
class Stream:
    id: int
    group_id: int
    name: str
    created_at: int
    first_event: int | None
    last_event: int | None
    last_ingestion: int | None
    appends: int


def group_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{name}"


def stream_arn(group: Group, stream: str) -> str:
    return f"{group.arn}:log-stream:{stream}"


def sequence_token(appends: int) -> str:
    """The upload sequence token AWS still reports (and ignores): 56 digits that grow with every batch."""
    return f"49{appends:054d}"


def name_from_arn(ctx: RequestContext, arn: str, kind: str = "log-group") -> str | None:
    """The log group name of an ARN of this account and Region (`:*` allowed at the end), None for another
    account's or Region's; InvalidParameterException when it is no CloudWatch Logs ARN of `kind`."""
    parts = arn.split(":", 6)
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "logs" or parts[5] != kind or not parts[6]:
        raise invalid_arn(arn)
    name = parts[6].removesuffix(":*")
    if parts[3] != ctx.region or parts[4] != ctx.account:
        return None
    return name


def group_name(ctx: RequestContext, p: dict[str, Any]) -> str | None:
    """The log group a read names by logGroupName or logGroupIdentifier (exactly one of them); None when the
    identifier is an ARN of another account or Region."""
    name, identifier = p.get("logGroupName"), p.get("logGroupIdentifier")
    if name is not None and identifier is not None:
        raise name_and_identifier()
    if name is not None:
        return str(name)
    if identifier is None:
        raise name_or_identifier()
    return identifier_name(ctx, identifier)


def identifier_name(ctx: RequestContext, identifier: str) -> str | None:
    """A logGroupIdentifier (a name or an ARN) as a group name; None for another account's or Region's ARN."""
    if identifier.startswith("arn:"):
        try:
            return name_from_arn(ctx, identifier)
        except ServiceError:  # a tagging ARN's error; identifiers have their own
            raise invalid_identifier(identifier) from None
    return identifier
