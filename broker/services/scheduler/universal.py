"""Universal targets (`arn:aws:scheduler:::aws-sdk:<service>:<apiAction>`): <service> is the AWS SDK service
identifier (the model's serviceId in lower case without spaces: `eventbridge`, `cloudwatchlogs`, `apigatewayv2`),
<apiAction> the operation in camel case; Input holds the call's parameters as JSON. A firing calls that action of a
service the broker serves, over loopback in the schedule's account and Region, serialized by botocore in the
service's own protocol exactly as an SDK would send it. Registered with EventBridge's delivery (events/targets.py
REMOTE_SENDERS): the dispatcher retries a retryable failure under the schedule's RetryPolicy and dead-letters the
rest."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
from botocore.awsrequest import AWSRequest, prepare_request_dict
from botocore.credentials import Credentials
from botocore.exceptions import ParamValidationError
from botocore.model import OperationModel, OperationNotFoundError, ServiceModel
from botocore.serialize import create_serializer

from broker.errors import ServiceError
from broker.services import aws_loopback
from broker.services.base import Env
from broker.services.events.targets import REMOTE_SENDERS, Delivery, TargetError
from broker.services.scheduler import errors

_ARN = re.compile(r"arn:aws[a-z-]*:scheduler:::aws-sdk:([a-z0-9]+):([a-zA-Z0-9]+)")
TIMEOUT_S = 30.0
# Refusals that say "slow down" without a 429 or "Throttling" in their code: retried like them.
_THROTTLED = frozenset({"ProvisionedThroughputExceededException", "RequestLimitExceeded", "SlowDown"})
# Actions Scheduler refuses as targets: read-only APIs (user guide, "Using universal targets", compared without case:
# aws-sdk:sqs:ListQueues is as read-only as listQueues).
_READ_ONLY_PREFIXES = tuple(
    p.lower()
    for p in (
        "get", "describe", "list", "poll", "receive", "search", "scan", "query", "select", "read", "lookup",
        "discover", "validate", "batchGet", "batchDescribe", "batchRead", "transactGet", "adminGet", "adminList",
        "testMigration", "retrieve", "testConnection", "translateDocument", "isAuthorized", "isAuthorizedWithToken",
        "invokeModel",
    )
)  # fmt: skip


def is_universal(arn: str) -> bool:
    return arn.startswith("arn:") and ":scheduler:::aws-sdk:" in arn


def resolve(arn: str) -> tuple[ServiceModel, OperationModel]:
    """The served service and operation a universal target ARN names; ValidationException when the ARN is malformed,
    names a service the broker does not serve, an action the service does not have, or a read-only action."""
    m = _ARN.fullmatch(arn)
    if m is None:
        raise errors.invalid_target(arn)
    service, api = m.groups()
    model = aws_loopback.sdk_model(service)
    if model is None:
        raise errors.unsupported_service(arn, service)
    if api.lower().startswith(_READ_ONLY_PREFIXES):
        raise errors.unsupported_action(arn)
    try:
        return model, model.operation_model(api[:1].upper() + api[1:])
    except OperationNotFoundError:
        raise errors.unknown_action(arn, service, api) from None


def _request(d: Delivery, base_url: str, signer: Credentials) -> AWSRequest:
    try:
        model, operation = resolve(d.target_arn)
    except ServiceError as e:  # checked at CreateSchedule: only a broker without the service gets here
        raise TargetError("ValidationException", e.message, retryable=False) from None
    try:
        params = json.loads(d.payload)
    except ValueError:
        params = None
    if not isinstance(params, dict):
        raise TargetError("ValidationException", "Input is not a JSON object of the action's parameters.", False)
    serializer = create_serializer(str(model.metadata["protocol"]), include_validation=True)
    try:
        request = serializer.serialize_to_request(params, operation)
    except ParamValidationError as e:
        raise TargetError("ValidationException", str(e), retryable=False) from None
    # An endpoint host prefix ("stream-" of CloudWatch Logs' StartLiveTail) would name another host: the call
    # stays on loopback.
    request.pop("host_prefix", None)
    prepare_request_dict(request, base_url)
    if urlsplit(request["url"]).hostname != aws_loopback.LOOPBACK_HOST:
        raise TargetError("ValidationException", f"The call to {d.target_arn} would leave this broker.", False)
    outgoing = AWSRequest(
        method=request["method"], url=request["url"], data=request["body"], headers=request["headers"]
    )
    aws_loopback.sign(outgoing, model, d.region, signer)
    return outgoing


async def send(env: Env, d: Delivery) -> None:
    """Call the action as a session of the target's role (named after the schedule); TargetError with the
    service's error code when it refuses (retryable when it throttles or fails on its side)."""
    session = d.source_arn.rsplit("/", 1)[-1]
    signer = await aws_loopback.credentials(env, d.account, d.extra.get("RoleArn"), session)
    outgoing = _request(d, aws_loopback.url(env.settings, ""), signer)
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            reply = await client.request(
                outgoing.method, outgoing.url, headers=list(outgoing.headers.items()), content=outgoing.body or b""
            )
    except httpx.HTTPError as e:
        raise TargetError("InternalServerException", f"The call failed: {e}") from e
    if reply.status_code < 300:
        return
    code, message = _error(reply)
    retryable = reply.status_code >= 500 or reply.status_code == 429 or "Throttl" in code or code in _THROTTLED
    raise TargetError(code, message, retryable)


def _error(reply: httpx.Response) -> tuple[str, str]:
    """(code, message) of an AWS error answer in any protocol (JSON, rest-json, query XML)."""
    code = reply.headers.get("x-amzn-errortype", "").split(":", 1)[0]
    message = ""
    try:
        body: Any = reply.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = code or str(body.get("__type", "")).rsplit("#", 1)[-1]
        message = str(body.get("message") or body.get("Message") or "")
    else:
        try:
            root = ElementTree.fromstring(reply.content)
            code = code or next((e.text or "" for e in root.iter() if e.tag.endswith("Code")), "")
            message = next((e.text or "" for e in root.iter() if e.tag.endswith("Message")), "")
        except ElementTree.ParseError:
            pass
    return code or f"HTTP{reply.status_code}", message or reply.text[:1024]


REMOTE_SENDERS.append((is_universal, send))
