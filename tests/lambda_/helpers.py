"""Shared by the Lambda tests: deployment packages built in memory, a role ARN, queues and the files functions
write what they saw to."""

from __future__ import annotations

import io
import json
import zipfile

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ARN = "arn:aws:lambda:us-east-1:000000000000:function"


def zip_of(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    """A zip holding `files` (name -> content); `modes` sets Unix modes (a bootstrap must be executable)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            zf.writestr(info, content)
    return buf.getvalue()


def python_zip(source: str, module: str = "handler") -> bytes:
    return zip_of({f"{module}.py": source})


ECHO = """
import json, os, sys

def handler(event, context):
    return {"event": event, "version": context.function_version, "python": sys.version.split()[0],
            "request_id": context.aws_request_id, "memory": context.memory_limit_in_mb}
"""


def create(lam, name: str, source: str = ECHO, runtime: str = "python3.12", **kw) -> dict:
    return lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=kw.pop("Handler", "handler.handler"),
        Code={"ZipFile": kw.pop("zip_bytes", None) or python_zip(source)},
        **kw,
    )


def runtime_pids(function_name: str, port: int) -> set[int]:
    """Live processes running `function_name` for the broker on `port` (found by the environment every runtime
    process gets: its function's name and the broker's endpoint)."""
    import os

    wanted = f"AWS_LAMBDA_FUNCTION_NAME={function_name}".encode()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        endpoint = f"AWS_ENDPOINT_URL=http://127.0.0.1:{port}".encode()
        if wanted in env and endpoint in env and state != "Z":
            found.add(int(entry))
    return found


def error_of(fn, status: int, **kw) -> dict:
    """The error document of a call that must fail with `status`."""
    import pytest
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as e:
        fn(**kw)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status, e.value.response
    return e.value.response["Error"]


def queue_with_arn(sqs, name: str, **attrs) -> tuple[str, str]:
    """Create an SQS queue (attributes as keyword arguments); its URL and ARN."""
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def receive_json(sqs, url: str, timeout: float = 20) -> dict:
    """Receive and delete one message of a queue, waiting up to `timeout` seconds; its JSON body."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")
        if got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            return json.loads(got[0]["Body"])
    raise AssertionError(f"nothing arrived in {url}")


def queue_counts(sqs, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue."""
    a = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def json_lines(path) -> list[dict]:
    """The JSON documents a function appended to `path`, one per line."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_until(check, timeout: float = 20) -> None:
    """Poll `check` until it holds (bounded)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    assert check()
