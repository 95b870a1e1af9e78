"""boto3 clients shared by the SQS test modules: building one takes ~0.1 s, so each is built once per server and
settings."""

from __future__ import annotations

_clients: dict[tuple, object] = {}


def client(broker, region: str = "us-east-1", access_key: str = "test", **config):  # noqa: ANN001, ANN201
    key = (broker.url, region, access_key, tuple(sorted(config.items())))
    if key not in _clients:
        _clients[key] = broker.client("sqs", region=region, access_key=access_key, **config)
    return _clients[key]
