"""The console's SNS, Kinesis, Lambda, API Gateway and pending-work pages in a real browser, the redirect of a
browser's `/` and the offline OpenAPI page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import serve
from tests.console.conftest import Browser
from tests.lambda_.helpers import create
from tests.server import BrokerServer

# The pages read through the same operations (and SQL) that the SQS module runs on both databases.

FAILING = """
def handler(event, context):
    raise ValueError("always fails")
"""


@pytest.fixture(scope="module")
def server(backend, request) -> Iterator[BrokerServer]:
    yield from serve(request, backend, "console-services", workers=2)


def test_sns_topics_subscriptions_and_publish(page: Browser, server: BrokerServer) -> None:
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name="events")["TopicArn"]
    queue = sqs.create_queue(QueueName="events-copy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    # Nobody listens there: the confirmation stays pending and its delivery fails and waits for a retry.
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/hook")

    page.open("/_broker/console/sns")
    row = "tr[data-topic=events]"
    assert page.text(f"{row} td.confirmed") == "1"
    assert page.text(f"{row} td.pending") == "1"
    assert "pending confirmation" in page.text(f"{row} tr[data-subscription='http://127.0.0.1:9/hook']")
    assert "confirmed" in page.text(f"{row} tr[data-subscription='{queue_arn}']")
    page.wait(
        lambda _d: "failing deliveries" in page.text(f"{row} tr[data-subscription='http://127.0.0.1:9/hook']"),
        message="the failed confirmation delivery was not shown",
    )

    ok, text = page.act("#publish-form", TopicArn=topic, Message="published in the console", Subject="hi")
    assert ok, text
    message_id = json.loads(text)["MessageId"]
    got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in got] == ["published in the console"]

    ok, text = page.act("#publish-form", TopicArn=topic, Message="", Subject="")
    assert not ok and text.startswith("InvalidParameter: "), text
    assert message_id

    page.open("/_broker/console/pending")
    assert "http://127.0.0.1:9/hook" not in page.text("#http-deliveries")  # rows name the subscription ARN
    assert "SubscriptionConfirmation" in page.text("#http-deliveries")


def test_kinesis_streams_put_and_read(page: Browser, server: BrokerServer) -> None:
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName="clicks", WaiterConfig={"Delay": 0.2})
    arn = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
    kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="dashboard")

    page.open("/_broker/console/kinesis")
    row = "tr[data-stream=clicks]"
    assert page.text(f"{row} td.open-shards") == "2"
    assert len(page.all(f"{row} tr[data-shard]")) == 2
    assert page.all(f"{row} [data-consumer=dashboard]")

    # Explicit hash key 0: the first shard.
    ok, text = page.act("#put-form", StreamName="clicks", PartitionKey="k", Data="first", ExplicitHashKey="0")
    assert ok, text
    first = json.loads(text)
    assert first["ShardId"] == "shardId-000000000000"
    ok, text = page.act("#put-form", StreamName="clicks", PartitionKey="k", Data="c2Vjb25k", DataEncoding="base64")
    assert ok, text
    second = json.loads(text)

    seen = kinesis.get_records(
        ShardIterator=kinesis.get_shard_iterator(
            StreamName="clicks", ShardId=second["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
    )["Records"]
    assert b"second" in [r["Data"] for r in seen]

    ok, text = page.act(
        "#read-form", StreamName="clicks", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )
    assert ok, text
    records = json.loads(text)["Records"]
    assert records[0]["Data"] == "first" and records[0]["SequenceNumber"] == first["SequenceNumber"]
    ok, text = page.act(
        "#read-form",
        ShardId="shardId-000000000000",
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=first["SequenceNumber"],
    )
    assert ok, text
    assert [r["SequenceNumber"] for r in json.loads(text)["Records"]][:1] == [first["SequenceNumber"]]

    ok, text = page.act("#read-form", ShardId="shardId-000000000009", ShardIteratorType="TRIM_HORIZON")
    assert not ok and text.startswith("ResourceNotFoundException: "), text


def test_lambda_invoke_logs_and_mapping_toggle(page: Browser, server: BrokerServer) -> None:
    lam, sqs = server.client("lambda", read_timeout=60), server.client("sqs")
    create(lam, "echo")
    lam.publish_version(FunctionName="echo")
    lam.create_alias(FunctionName="echo", Name="live", FunctionVersion="1")
    queue = sqs.create_queue(QueueName="feed")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    uuid = lam.create_event_source_mapping(FunctionName="echo", EventSourceArn=queue_arn, Enabled=True)["UUID"]

    page.open("/_broker/console/lambda")
    fn = "article[data-function=echo]"
    page.wait_text(f"[data-mapping='{uuid}'] .state", "Enabled")
    # Versions, aliases and logs are read only once the function's details are opened.
    assert not page.all(f"{fn} .version")
    page.click(f"{fn} details.detail summary")
    page.wait(lambda _d: page.text(f"{fn} .version").startswith("1"), message="no versions shown")
    assert page.text(f"{fn} .alias") == "live → 1"

    ok, text = page.act("#invoke-form", FunctionName="echo", Payload='{"from": "console"}')
    assert ok, text
    result = json.loads(text)
    assert result["StatusCode"] == 200
    assert json.loads(result["Payload"])["event"] == {"from": "console"}
    assert "START RequestId: " in result["LogResult"]
    ok, text = page.act("#invoke-form", FunctionName="echo", Payload="not json")
    assert not ok and text.startswith("InvalidRequestContentException: "), text

    # The open details refresh with the page.
    page.wait(lambda _d: "START RequestId: " in page.text(f"{fn} .logs"), message="no logs shown")

    # Disable, then enable again, from the page; boto3 sees each change.
    ok, text = page.act(f"[data-mapping='{uuid}'] form", button="button[data-toggle]")
    assert ok, text
    assert lam.get_event_source_mapping(UUID=uuid)["State"] in ("Disabling", "Disabled")
    page.wait_text(f"[data-mapping='{uuid}'] .state", "Disabled")
    ok, text = page.act(f"[data-mapping='{uuid}'] form", button="button[data-toggle]")
    assert ok, text
    assert lam.get_event_source_mapping(UUID=uuid)["State"] in ("Enabling", "Enabled")
    page.wait_text(f"[data-mapping='{uuid}'] .state", "Enabled")


def test_async_retries_are_pending_work(page: Browser, server: BrokerServer) -> None:
    lam = server.client("lambda", read_timeout=60)
    create(lam, "flaky", source=FAILING)
    page.open("/_broker/console/lambda")
    ok, text = page.act("#invoke-form", FunctionName="flaky", InvocationType="Event", Payload="{}")
    assert ok, text
    assert json.loads(text)["StatusCode"] == 202
    page.open("/_broker/console/pending")
    # The first attempt fails; the invocation waits for its retry and the page shows it without a reload.
    page.wait(
        lambda _d: any(
            "flaky" in row.text and row.find_elements("css selector", "td.num")[0].text == "1"
            for row in page.all("#async-invocations tbody tr")
        ),
        timeout=30,
        message="the failed asynchronous invocation was not shown",
    )


def _mock_rest_api(server: BrokerServer, name: str) -> str:
    """A REST API deployed to stage "prod" whose GET / answers {"<name>": true} (a MOCK integration)."""
    gw = server.client("apigateway")
    api_id = gw.create_rest_api(name=name)["id"]
    root = gw.get_resources(restApiId=api_id)["items"][0]["id"]
    ids = {"restApiId": api_id, "resourceId": root, "httpMethod": "GET"}
    gw.put_method(**ids, authorizationType="NONE")
    gw.put_integration(**ids, type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    gw.put_method_response(**ids, statusCode="200")
    gw.put_integration_response(**ids, statusCode="200", responseTemplates={"application/json": f'{{"{name}": true}}'})
    gw.create_deployment(restApiId=api_id, stageName="prod")
    return api_id


def test_apigateway_invoke_urls(page: Browser, server: BrokerServer) -> None:
    api = {"id": _mock_rest_api(server, "shop")}
    http_api = server.client("apigatewayv2").create_api(Name="edge", ProtocolType="HTTP")

    page.open("/_broker/console/apigateway")
    urls = page.attributes("tr[data-api=shop] a.invoke-url", "href")
    assert urls == [f"{server.url}/_aws/execute-api/{api['id']}/prod/"]
    assert httpx.get(urls[0]).json() == {"shop": True}  # the URL shown invokes the API
    assert http_api["ApiId"] in page.text("tr[data-api=edge]")


HTML_PAGE = """
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "text/html"}, "body": "<script>1</script>"}
"""


def test_data_plane_path_forms_are_sandboxed(server: BrokerServer) -> None:
    """An API's answer on the broker's own origin (the path forms) comes with `Content-Security-Policy: sandbox`,
    so its HTML cannot act on the console; the host forms are another origin and answer unchanged."""
    server.reset()
    api_id = _mock_rest_api(server, "site")
    http_api = server.client("apigatewayv2").create_api(Name="edge", ProtocolType="HTTP")["ApiId"]
    lam = server.client("lambda", read_timeout=60)
    create(lam, "page", source=HTML_PAGE)
    url_id = urlsplit(lam.create_function_url_config(FunctionName="page", AuthType="NONE")["FunctionUrl"]).netloc
    url_id = url_id.split(".")[0]

    def sandboxed(path: str, status: int, host: str | None = None) -> bool:
        r = httpx.get(server.url + path, headers={"Host": host} if host else {}, timeout=30)
        assert r.status_code == status, (path, r.status_code, r.text)
        policies = r.headers.get_list("content-security-policy")
        assert policies in ([], ["sandbox"]), policies
        return policies == ["sandbox"]

    assert sandboxed(f"/_aws/execute-api/{api_id}/prod/", 200)
    assert sandboxed(f"/restapis/{api_id}/prod/_user_request_/", 200)
    assert sandboxed("/_aws/execute-api/nosuchapi/prod/", 403)  # the gateway's own answers too
    assert sandboxed(f"/_aws/execute-api/{http_api}/nothing", 404)  # an HTTP API's
    assert sandboxed(f"/_broker/lambda-url/{url_id}/", 200)
    assert not sandboxed("/prod/", 200, host=f"{api_id}.execute-api.localhost:{server.port}")
    assert not sandboxed("/", 200, host=f"{url_id}.lambda-url.us-east-1.localhost:{server.port}")


def test_browser_root_redirects_to_console(page: Browser, server: BrokerServer) -> None:
    page.open("/")
    page.wait(lambda d: d.current_url == f"{server.url}/_broker/console/", message="no redirect")
    assert page.text("h1") == "Overview"
    # AWS clients are never redirected: no text/html, or a signature, or an Action.
    assert httpx.get(server.url + "/", follow_redirects=False).status_code != 302
    html = {"accept": "text/html"}
    assert httpx.get(server.url + "/?Action=ListQueues", headers=html).status_code != 302
    signed = {**html, "authorization": "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/sqs/aws4_request"}
    assert httpx.get(server.url + "/", headers=signed).status_code != 302
    assert httpx.get(server.url + "/", headers=html).headers["location"] == "/_broker/console/"


def test_openapi_page_works_offline(page: Browser, server: BrokerServer) -> None:
    page.open("/_broker/docs")
    page.wait(lambda _d: "broker admin" in page.text(".swagger-ui .info .title"), message="Swagger UI did not render")
    page.wait(lambda _d: page.all(".swagger-ui .opblock"), message="no operations listed")
    loaded = page.driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name);")
    assert loaded and all(url.startswith(server.url + "/") for url in loaded), loaded


def test_bad_scope_and_unknown_pages(page: Browser, server: BrokerServer) -> None:
    base = server.url + "/_broker/console"
    assert httpx.get(base + "/sqs?account=12").status_code == 400
    assert httpx.get(base + "/sqs?region=../x").status_code == 400
    assert httpx.get(base + "/nothing").status_code == 404
    assert httpx.get(base + "/static/console.js").status_code == 200
    # Sent as written (a URL given to httpx loses its `..`): a raw `..`, and `%2e%2e` that the server decodes.
    for raw in (
        "/static/../routes.py",
        "/static/%2e%2e/routes.py",
        "/static/..%2froutes.py",
        "/static/../../config.py",
    ):
        url = httpx.URL(scheme="http", host="127.0.0.1", port=server.port, raw_path=("/_broker/console" + raw).encode())
        r = httpx.get(url)
        assert r.status_code == 404 and "import" not in r.text, (raw, r.status_code)
    assert httpx.post(base + "/actions/sqs.nothing").status_code == 404
    foreign = {"origin": "http://elsewhere.example"}
    assert httpx.post(base + "/actions/sqs.send", data={"MessageBody": "x"}, headers=foreign).status_code == 403
    answer = httpx.post(base + "/actions/sqs.send", data={"MessageBody": "x"}).json()
    assert answer == {
        "ok": False,
        "code": "MissingParameter",
        "message": "The request must contain the parameter QueueUrl.",
    }


def test_eventbridge_logs_and_iam_listed(page: Browser, server: BrokerServer) -> None:
    server.client("events").put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    server.client("logs").create_log_group(logGroupName="/app/web")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    server.client("iam").create_role(RoleName="runner", AssumeRolePolicyDocument=json.dumps(trust))
    page.open("/_broker/console/others")
    assert "rate(1 day)" in page.text("tr[data-rule=nightly]")
    assert page.all("tr[data-log-group='/app/web']")
    assert "arn:aws:iam::000000000000:role/runner" in page.text("tr[data-role=runner]")
