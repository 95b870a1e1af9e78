"""The README's HTTP API commands through the AWS CLI: quick create with a function as the target, then the
`$default` stage answers over plain HTTP on the broker's port, by path and by Host."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.awscli import MISSING, run_aws
from tests.lambda_.helpers import create


@pytest.mark.skipif(MISSING, reason="the AWS CLI is not installed")
def test_readme_http_api_commands(broker, tmp_path):
    create(broker.client("lambda", read_timeout=60), "hello-gw2",
           source='def handler(event, context):\n    return {"hello": event.get("name")}\n')  # fmt: skip
    done = run_aws(broker.url, tmp_path, "apigatewayv2", "create-api", "--name", "hello-api",
                   "--protocol-type", "HTTP", "--target", "arn:aws:lambda:us-east-1:000000000000:function:hello-gw2",
                   "--query", "ApiId", "--output", "text")  # fmt: skip
    assert done.returncode == 0, done.stderr
    api = done.stdout.strip()
    by_path = httpx.get(f"{broker.url}/_aws/execute-api/{api}/anything", timeout=60)
    assert (by_path.status_code, by_path.json()) == (200, {"hello": None})
    by_host = httpx.get(f"{broker.url}/anything", headers={"host": f"{api}.execute-api.localhost"}, timeout=60)
    assert json.loads(by_host.content) == {"hello": None}
