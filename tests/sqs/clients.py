"""Shared by the SQS test modules: cached boto3 clients (building one takes ~0.1 s, so each is built once per
server and settings), and the outcome of a call as (status, code)."""

from __future__ import annotations

from botocore.exceptions import ClientError

_clients: dict[tuple, object] = {}


def client(broker, region: str = "us-east-1", access_key: str = "test", **config):
    key = (broker.url, region, access_key, tuple(sorted(config.items())))
    if key not in _clients:
        _clients[key] = broker.client("sqs", region=region, access_key=access_key, **config)
    return _clients[key]


def queue_url(broker, name: str, region: str = "us-east-1", account: str = "000000000000") -> str:
    """The URL the broker hands out for a queue (its default sqs_queue_url_style, "regional") to a client that
    addresses it by IP address: the region in the path, as no subdomain of an IP address resolves (to a host name
    it prefixes sqs.<region>., as AWS's https://sqs.<region>.amazonaws.com/<account>/<name>)."""
    return f"http://127.0.0.1:{broker.port}/queue/{region}/{account}/{name}"


def outcome(fn, **kw) -> tuple[int, str] | str:
    """(HTTP status, error code) of a failed call, or "ok"."""
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    return "ok"


def error_400(fn, **kw) -> dict:
    """The Error of a call that must fail with HTTP 400."""
    try:
        fn(**kw)
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        return e.response["Error"]
    raise AssertionError(f"{fn.__name__} did not fail")
