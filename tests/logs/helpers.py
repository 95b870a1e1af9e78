"""Shared by the CloudWatch Logs tests: a cached boto3 client per server, the broker's clock, error helpers."""

from __future__ import annotations

from botocore.exceptions import ClientError

_clients: dict[tuple, object] = {}
ACCOUNT = "000000000000"
REGION = "us-east-1"


def error_400(fn, *args, **kw) -> dict:
    """The Error of a call that must fail with HTTP 400."""
    try:
        fn(*args, **kw)
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        return e.response["Error"]
    raise AssertionError(f"{fn.__name__} did not fail")


def client(broker, region: str = REGION, access_key: str = "test"):
    key = (broker.url, region, access_key)
    if key not in _clients:
        _clients[key] = broker.client("logs", region=region, access_key=access_key)
    return _clients[key]


def now_ms(broker) -> int:
    """The broker's "now" (the test clock may have moved)."""
    return broker.admin("GET", "/_broker/clock")["now_ms"]


def group_arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{name}"


def put(logs, group: str, stream: str, events: list[tuple[int, str]], **kw) -> dict:
    return logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": t, "message": m} for t, m in events],
        **kw,
    )


def make_stream(logs, group: str, stream: str) -> None:
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.create_log_stream(logGroupName=group, logStreamName=stream)


def messages(events: list[dict]) -> list[str]:
    return [e["message"] for e in events]
