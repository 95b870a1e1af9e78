"""The ARNs SNS hands out (topics, subscriptions, platform applications and their endpoints): parsing them, and the
checks of the request members that carry them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from broker.context import RequestContext
from broker.services.sns.errors import arn_too_short, invalid_parameter

TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$|^[A-Za-z0-9_-]{1,251}\.fifo$")
APPLE = ("APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "MACOS", "MACOS_SANDBOX")
PLATFORMS = (*APPLE, "ADM", "GCM", "BAIDU", "MPNS", "WNS")
APP_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class AppArn(NamedTuple):
    region: str
    account: str
    platform: str
    name: str


class EndpointArn(NamedTuple):
    region: str
    account: str
    platform: str
    app_name: str
    id: str


P = TypeVar("P", AppArn, EndpointArn)


def _sns_arn(arn: str) -> list[str] | None:
    """arn:aws:sns:{region}:{account}:{resource} as its six parts (the resource may hold colons), or None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[1] != "aws" or parts[2] != "sns" or not parts[3]:
        return None
    if not (len(parts[4]) == 12 and parts[4].isascii() and parts[4].isdigit()):
        return None
    return parts


def parse_topic_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of an SNS topic ARN, or None."""
    parts = _sns_arn(arn)
    if parts is None or not TOPIC_NAME.match(parts[5]):
        return None  # e.g. a platform endpoint ARN (".../endpoint/GCM/app/id") is not a topic
    return parts[3], parts[4], parts[5]


def parse_app_arn(arn: str) -> AppArn | None:
    """arn:aws:sns:{region}:{account}:app/{platform}/{name}"""
    parts = _sns_arn(arn)
    if parts is None:
        return None
    rel = parts[5].split("/")
    if len(rel) != 3 or rel[0] != "app" or rel[1] not in PLATFORMS or not APP_NAME.match(rel[2]):
        return None
    return AppArn(parts[3], parts[4], rel[1], rel[2])


def parse_endpoint_arn(arn: str) -> EndpointArn | None:
    """arn:aws:sns:{region}:{account}:endpoint/{platform}/{app name}/{id}"""
    parts = _sns_arn(arn)
    if parts is None:
        return None
    rel = parts[5].split("/")
    if len(rel) != 4 or rel[0] != "endpoint" or rel[1] not in PLATFORMS or not APP_NAME.match(rel[2]) or not rel[3]:
        return None
    return EndpointArn(parts[3], parts[4], rel[1], rel[2], rel[3])


# -- checks of request members ---------------------------------------------------------------------------------------
def check_arn_parts(arn: str, member: str) -> None:
    if len(parts := arn.split(":", 5)) < 6:
        raise arn_too_short(member, len(parts))


def check_topic_arn(ctx: RequestContext, arn: str, member: str = "TopicArn") -> None:
    check_arn_parts(arn, member)
    parsed = parse_topic_arn(arn)
    if parsed is None:
        if not arn.startswith("arn"):
            raise invalid_parameter(f"{member} Reason: {arn} does not start with arn")
        raise invalid_parameter(member)
    if parsed[0] != ctx.region:
        raise invalid_parameter(member)


def check_subscription_arn(arn: str) -> None:
    parts = arn.split(":")
    if len(parts) < 6:
        raise arn_too_short("SubscriptionArn", len(parts))
    if len(parts) != 7 or parts[2] != "sns" or parse_topic_arn(":".join(parts[:6])) is None or not parts[6]:
        # An ARN, but not one of a subscription (no topic:id resource, another service's): its id is wrong.
        raise invalid_parameter("SubscriptionId")


def check_app_arn(ctx: RequestContext, arn: str, member: str = "PlatformApplicationArn") -> AppArn:
    return _check_in_region(ctx, arn, member, parse_app_arn, 2)  # app/{platform}/{name}


def check_endpoint_arn(ctx: RequestContext, arn: str, member: str = "EndpointArn") -> EndpointArn:
    return _check_in_region(ctx, arn, member, parse_endpoint_arn, 3)  # endpoint/{platform}/{app name}/{id}


def _check_in_region(ctx: RequestContext, arn: str, member: str, parse: Callable[[str], P | None], slashes: int) -> P:
    check_arn_parts(arn, member)
    if arn.split(":", 5)[5].count("/") != slashes:
        raise invalid_parameter(f"{member} Reason: Wrong number of slashes in relative portion of the ARN.")
    parsed = parse(arn)
    if parsed is None or parsed.region != ctx.region:
        raise invalid_parameter(member)
    return parsed
