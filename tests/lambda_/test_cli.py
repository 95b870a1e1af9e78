"""The AWS CLI against the broker, as the README shows it: create a function from a zip file, invoke it with the
log tail, and read its CloudWatch Logs."""

from __future__ import annotations

import base64
import json

import pytest

from tests.awscli import MISSING, aws_json
from tests.lambda_.helpers import python_zip


@pytest.mark.skipif(MISSING, reason="the AWS CLI is not installed")
def test_readme_lambda_commands(broker, tmp_path):
    def aws(*args: str) -> dict:
        return aws_json(broker.url, tmp_path, *args)

    (tmp_path / "fn.zip").write_bytes(python_zip('def handler(event, context):\n    return {"hello": event["name"]}\n'))
    created = aws("lambda", "create-function", "--function-name", "hello", "--runtime", "python3.12",
                  "--handler", "handler.handler", "--role", "arn:aws:iam::000000000000:role/any",
                  "--zip-file", "fileb://fn.zip")  # fmt: skip
    assert created["State"] == "Pending"
    # AWS CLI v1 sends --payload as it is (v2 needs --cli-binary-format raw-in-base64-out for that).
    answer = aws("lambda", "invoke", "--function-name", "hello", "--payload", '{"name": "broker"}',
                 "--log-type", "Tail", "out.json")  # fmt: skip
    assert answer["StatusCode"] == 200 and answer["ExecutedVersion"] == "$LATEST"
    assert json.loads((tmp_path / "out.json").read_text()) == {"hello": "broker"}
    assert "REPORT RequestId" in base64.b64decode(answer["LogResult"]).decode()
    events = aws("logs", "filter-log-events", "--log-group-name", "/aws/lambda/hello")["events"]
    assert [e["message"].split(" ")[0] for e in events][:1] == ["START"]
