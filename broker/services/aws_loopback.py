"""Requests the broker makes to its own AWS API, as an AWS client would send them: to its port on loopback, in the
wire protocol of a service it serves, SigV4-signed in a Region with temporary credentials of the role that makes
the call (API Gateway's credentials role, a Scheduler target's RoleArn) or of the account's root when there is none:
valid in both auth modes, and acting in that role's account. Used by API Gateway's AWS integrations and EventBridge
Scheduler's universal targets."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import ServiceModel

from broker.auth import temporary
from broker.config import Settings
from broker.protocol.spec import load_model
from broker.services import registry
from broker.services.base import Env
from broker.services.sts import sessions

LOOPBACK_HOST = "127.0.0.1"
SESSION_SECONDS = 3600  # AssumeRole's default; reissued once half of it has passed


def _served() -> list[ServiceModel]:
    return [load_model(name.rstrip("_")) for name in registry.SERVICES]


@functools.cache
def served_model(endpoint_prefix: str) -> ServiceModel | None:
    """The botocore model of a served service by the endpoint prefix ARNs and URIs name (None: not served)."""
    return next((m for m in _served() if m.endpoint_prefix == endpoint_prefix), None)


def sdk_id(model: ServiceModel) -> str:
    """The AWS SDK service identifier of a service: its model's serviceId in lower case without spaces or hyphens
    ("eventbridge", "cloudwatchlogs", "apigatewayv2"); it can differ from the endpoint prefix ("events", "logs")."""
    return str(model.metadata.get("serviceId", "")).lower().replace(" ", "").replace("-", "")


@functools.cache
def sdk_model(identifier: str) -> ServiceModel | None:
    """The botocore model of a served service by its SDK service identifier (None: not served)."""
    return next((m for m in _served() if sdk_id(m) == identifier), None)


def url(settings: Settings, path_and_query: str) -> str:
    return f"http://{LOOPBACK_HOST}:{settings.port}{path_and_query}"


async def credentials(env: Env, account: str, role_arn: str | None, session: str) -> Credentials:
    """Credentials of a session of `role_arn` named `session`, or of `account`'s root when the caller has no role
    (or names none: API Gateway's "arn:aws:iam::*:user/*"); reused per process while more than half valid."""
    keys = env.get(temporary.SESSION_KEYS)
    name = ("loopback", account, role_arn or "", session)
    issued = keys.reused(name, SESSION_SECONDS)
    if issued is None:
        identity = await sessions.role_session(env, role_arn, session) if role_arn else None
        issued = temporary.issue(env, identity or sessions.root(account), SESSION_SECONDS)
        keys.remember(name, issued)
    return Credentials(issued.access_key_id, issued.secret_access_key, issued.session_token)


def sign(request: AWSRequest, model: ServiceModel, region: str, signer: Credentials) -> None:
    """Sign a request for this broker; ValueError for one that would leave loopback (never sent anywhere else)."""
    if urlsplit(request.url).hostname != LOOPBACK_HOST:
        raise ValueError(f"not a loopback request: {request.url}")
    SigV4Auth(signer, model.signing_name or model.endpoint_prefix, region).add_auth(request)
