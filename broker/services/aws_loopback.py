"""Requests the broker makes to its own AWS API, as an AWS client would send them: to its port on loopback, in the
wire protocol of a service it serves, SigV4-signed in an account (the access key id) and Region. Used by API
Gateway's AWS integrations and EventBridge Scheduler's universal targets."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import ServiceModel

from broker.config import Settings
from broker.protocol.spec import load_model
from broker.services import registry

# The broker takes the account from a 12-digit access key id and checks no signature: any secret will do.
_SECRET = "broker-loopback"
LOOPBACK_HOST = "127.0.0.1"


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


def sign(request: AWSRequest, model: ServiceModel, account: str, region: str) -> None:
    """Sign a request for this broker; ValueError for one that would leave loopback (never sent anywhere else)."""
    if urlsplit(request.url).hostname != LOOPBACK_HOST:
        raise ValueError(f"not a loopback request: {request.url}")
    SigV4Auth(Credentials(account, _SECRET), model.signing_name or model.endpoint_prefix, region).add_auth(request)
