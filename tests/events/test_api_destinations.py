"""EventBridge API destinations through boto3: their operations and errors, and events a rule sends to one reaching
a loopback HTTP server with the connection's authorization (Basic, API key, OAuth client credentials with a loopback
token endpoint), the target's HttpParameters, EventBridge's headers, retries of a 500 and no retry of a 404."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.events.helpers import ACCOUNT, REGION, error

BASIC = {"BasicAuthParameters": {"Username": "user", "Password": "pw"}}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/events"


class Loopback:
    """A loopback HTTP server that records requests and answers with the queued statuses (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.token_calls: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                record = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                if self.path.startswith("/token"):
                    outer.token_calls.append(record)
                    answer = json.dumps(
                        {"access_token": f"tok-{len(outer.token_calls)}", "token_type": "bearer", "expires_in": 3600}
                    ).encode()
                    status = 200
                else:
                    outer.requests.append(record)
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    answer = b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 15.0, broker=None) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            if broker is not None:
                broker.run_job("events.deliveries")
            time.sleep(0.1)
        assert len(self.requests) >= count, self.requests
        return self.requests

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http():
    server = Loopback()
    yield server
    server.stop()


def _destination(events, connection_arn: str, endpoint: str, method: str = "POST", name: str = "dest") -> str:
    out = events.create_api_destination(
        Name=name, ConnectionArn=connection_arn, InvocationEndpoint=endpoint, HttpMethod=method
    )
    return out["ApiDestinationArn"]


def _route(events, target_arn: str, **target) -> None:
    events.put_rule(Name="to-api", EventPattern=json.dumps({"source": ["my.app"]}))
    events.put_targets(Rule="to-api", Targets=[{"Id": "api", "Arn": target_arn, "RoleArn": ROLE, **target}])


def _put(events, detail: dict) -> str:
    out = events.put_events(Entries=[{"Source": "my.app", "DetailType": "thing", "Detail": json.dumps(detail)}])
    assert out["FailedEntryCount"] == 0
    return out["Entries"][0]["EventId"]


# -- operations ----------------------------------------------------------------------------------------------------
def test_operations_and_errors(events):
    conn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
    out = events.create_api_destination(
        Name="d1", ConnectionArn=conn, InvocationEndpoint="https://example.com/a/*", HttpMethod="POST"
    )
    assert out["ApiDestinationState"] == "ACTIVE"
    assert out["ApiDestinationArn"].startswith(f"arn:aws:events:{REGION}:{ACCOUNT}:api-destination/d1/")
    described = events.describe_api_destination(Name="d1")
    assert described["InvocationRateLimitPerSecond"] == 300
    assert (described["ConnectionArn"], described["HttpMethod"]) == (conn, "POST")
    assert described["InvocationEndpoint"] == "https://example.com/a/*"

    def create_error(name="d2", connection=conn, endpoint="https://example.com", method="GET") -> tuple[str, str]:
        return error(
            events.create_api_destination,
            Name=name,
            ConnectionArn=connection,
            InvocationEndpoint=endpoint,
            HttpMethod=method,
        )

    assert create_error(name="d1") == ("ResourceAlreadyExistsException", "An api-destination 'd1' already exists.")
    assert create_error(connection=conn.replace("connection/c/", "connection/gone/")) == (
        "ResourceNotFoundException",
        "Failed to describe the connection(s). Connection 'gone' does not exist.",
    )
    assert create_error(endpoint="ftp://x/y")[0] == "ValidationException"
    assert create_error(endpoint="https://x", method="TRACE")[0] == "ValidationException"

    out = events.update_api_destination(Name="d1", HttpMethod="PUT", InvocationRateLimitPerSecond=10)
    assert out["ApiDestinationState"] == "ACTIVE"
    described = events.describe_api_destination(Name="d1")
    assert (described["HttpMethod"], described["InvocationRateLimitPerSecond"]) == ("PUT", 10)

    conn2 = events.create_connection(Name="c2", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
    events.create_api_destination(Name="d2", ConnectionArn=conn2, InvocationEndpoint="https://x", HttpMethod="GET")
    assert [d["Name"] for d in events.list_api_destinations()["ApiDestinations"]] == ["d1", "d2"]
    assert [d["Name"] for d in events.list_api_destinations(ConnectionArn=conn2)["ApiDestinations"]] == ["d2"]
    assert [d["Name"] for d in events.list_api_destinations(NamePrefix="d1")["ApiDestinations"]] == ["d1"]
    first = events.list_api_destinations(Limit=1)
    assert [d["Name"] for d in first["ApiDestinations"]] == ["d1"]
    assert [d["Name"] for d in events.list_api_destinations(NextToken=first["NextToken"])["ApiDestinations"]] == ["d2"]

    missing = (
        "ResourceNotFoundException",
        "Failed to describe the api-destination(s). An api-destination 'nope' does not exist.",
    )
    assert error(events.describe_api_destination, Name="nope") == missing
    assert error(events.update_api_destination, Name="nope", HttpMethod="GET") == missing
    assert error(events.delete_api_destination, Name="nope") == missing
    events.delete_api_destination(Name="d1")
    assert error(events.describe_api_destination, Name="d1")[0] == "ResourceNotFoundException"


# -- sending -------------------------------------------------------------------------------------------------------
def test_basic_auth_with_http_parameters(events, http):
    auth = {
        **BASIC,
        "InvocationHttpParameters": {
            "HeaderParameters": [{"Key": "x-conn", "Value": "from-connection", "IsValueSecret": True}],
            "QueryStringParameters": [{"Key": "cq", "Value": "c v", "IsValueSecret": False}],
        },
    }
    conn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=auth)["ConnectionArn"]
    dest = _destination(events, conn, f"{http.url}/items/*/sub/*", method="PUT")
    _route(
        events,
        dest,
        HttpParameters={
            "PathParameterValues": ["42", "a b"],
            "HeaderParameters": {"x-target": "t", "x-conn": "overridden"},
            "QueryStringParameters": {"tq": "1"},
        },
    )
    event_id = _put(events, {"n": 1})
    request = http.wait(1)[0]
    split = urlsplit(request["path"])
    assert split.path == "/items/42/sub/a%20b"
    assert parse_qs(split.query) == {"tq": ["1"], "cq": ["c v"]}
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert request["method"] == "PUT"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"user:pw").decode()
    assert headers["x-target"] == "t"
    assert headers["x-conn"] == "from-connection"  # the connection's parameters take precedence
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["user-agent"] == "Amazon/EventBridge/ApiDestinations"
    body = json.loads(request["body"])
    assert (body["id"], body["source"], body["detail"]) == (event_id, "my.app", {"n": 1})


def test_api_key_auth(events, http):
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k-123"}}
    conn = events.create_connection(Name="k", AuthorizationType="API_KEY", AuthParameters=auth)["ConnectionArn"]
    _route(events, _destination(events, conn, f"{http.url}/hook"), InputPath="$.detail")
    _put(events, {"n": 2})
    request = http.wait(1)[0]
    assert request["path"] == "/hook"
    assert {k.lower(): v for k, v in request["headers"].items()}["x-api-key"] == "k-123"
    assert json.loads(request["body"]) == {"n": 2}


def _wait_state(events, name: str, state: str) -> dict:
    deadline = time.monotonic() + 10
    while True:
        described = events.describe_connection(Name=name)
        if described["ConnectionState"] == state or time.monotonic() > deadline:
            return described
        time.sleep(0.1)


def test_oauth_client_credentials(events, http):
    auth = {
        "OAuthParameters": {
            "ClientParameters": {"ClientID": "client", "ClientSecret": "s3cret"},
            "AuthorizationEndpoint": f"{http.url}/token",
            "HttpMethod": "POST",
            "OAuthHttpParameters": {
                "BodyParameters": [{"Key": "scope", "Value": "events", "IsValueSecret": False}],
                "HeaderParameters": [{"Key": "x-oauth", "Value": "h", "IsValueSecret": False}],
            },
        }
    }
    out = events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=auth)
    assert out["ConnectionState"] == "AUTHORIZING"
    described = _wait_state(events, "o", "AUTHORIZED")
    assert described["ConnectionState"] == "AUTHORIZED"
    assert "s3cret" not in repr(described)
    assert described["AuthParameters"]["OAuthParameters"]["ClientParameters"] == {"ClientID": "client"}
    token_call = http.token_calls[0]
    token_headers = {k.lower(): v for k, v in token_call["headers"].items()}
    assert token_headers["authorization"] == "Basic " + base64.b64encode(b"client:s3cret").decode()
    assert token_headers["x-oauth"] == "h"
    assert parse_qs(token_call["body"]) == {"grant_type": ["client_credentials"], "scope": ["events"]}

    _route(events, _destination(events, out["ConnectionArn"], f"{http.url}/secured"))
    _put(events, {"n": 1})
    _put(events, {"n": 2})
    requests = http.wait(2)
    assert {r["headers"].get("Authorization") for r in requests} == {"Bearer tok-1"}
    assert len(http.token_calls) == 1  # the token is cached until it is about to expire


def test_oauth_unreachable_endpoint_deauthorizes(events):
    auth = {
        "OAuthParameters": {
            "ClientParameters": {"ClientID": "client", "ClientSecret": "s"},
            "AuthorizationEndpoint": "http://127.0.0.1:9/token",
            "HttpMethod": "POST",
        }
    }
    events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=auth)
    described = _wait_state(events, "o", "DEAUTHORIZED")
    assert described["ConnectionState"] == "DEAUTHORIZED"
    assert described["StateReason"]


def test_server_error_is_retried(broker, events, http):
    conn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
    _route(events, _destination(events, conn, f"{http.url}/flaky"))
    http.statuses[:] = [500]
    _put(events, {"n": 1})
    http.wait(1)
    broker.advance(600)  # past the first backoff
    requests = http.wait(2, broker=broker)
    assert len(requests) == 2
    assert requests[0]["body"] == requests[1]["body"]


def test_client_error_goes_to_dead_letter_queue_at_once(broker, events, sqs, http):
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    conn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
    _route(events, _destination(events, conn, f"{http.url}/missing"), DeadLetterConfig={"Arn": dlq_arn})
    http.statuses[:] = [404]
    event_id = _put(events, {"n": 1})
    http.wait(1)
    messages = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=10, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(messages[0]["Body"])["id"] == event_id
    attributes = messages[0]["MessageAttributes"]
    assert "404" in attributes["ERROR_MESSAGE"]["StringValue"]
    broker.advance(600)
    broker.run_job("events.deliveries")
    time.sleep(0.5)
    assert len(http.requests) == 1  # a 404 is not retried


def test_listing_has_no_description_and_endpoints_are_checked(broker, events):
    conn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
    events.create_api_destination(
        Name="d", ConnectionArn=conn, InvocationEndpoint="https://x/y", HttpMethod="GET", Description="about"
    )
    assert events.describe_api_destination(Name="d")["Description"] == "about"
    assert "Description" not in events.list_api_destinations()["ApiDestinations"][0]  # not in ApiDestination
    own = broker.url.removeprefix("http://")  # the broker's own port on loopback
    for endpoint, reason in (
        ("http://example.com/hook", "InvocationEndpoint must use HTTPS."),
        ("http://169.254.169.254/latest/meta-data", "InvocationEndpoint must use HTTPS."),
        ("https://169.254.169.254/latest/meta-data", "InvocationEndpoint must not be a link-local address."),
        (f"http://{own}/_broker/reset", "InvocationEndpoint must not be a path of the broker itself."),
    ):
        expected = ("ValidationException", f"Parameter InvocationEndpoint is not valid. Reason: {reason}")
        assert (
            error(
                events.create_api_destination,
                Name="e",
                ConnectionArn=conn,
                InvocationEndpoint=endpoint,
                HttpMethod="GET",
            )
            == expected
        ), endpoint
        assert error(events.update_api_destination, Name="d", InvocationEndpoint=endpoint) == expected
    events.create_api_destination(
        Name="e", ConnectionArn=conn, InvocationEndpoint="http://localhost:1/x", HttpMethod="GET"
    )


def _oauth(http) -> dict:
    return {
        "OAuthParameters": {
            "ClientParameters": {"ClientID": "client", "ClientSecret": "s3cret"},
            "AuthorizationEndpoint": f"{http.url}/token",
            "HttpMethod": "POST",
        }
    }


def test_oauth_401_fetches_a_new_token(broker, events, http):
    out = events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=_oauth(http))
    assert _wait_state(events, "o", "AUTHORIZED")["ConnectionState"] == "AUTHORIZED"
    _route(events, _destination(events, out["ConnectionArn"], f"{http.url}/secured"))
    http.statuses[:] = [401]
    _put(events, {"n": 1})
    http.wait(1)
    broker.advance(600)  # past the backoff
    requests = http.wait(2, broker=broker)
    assert [r["headers"]["Authorization"] for r in requests[:2]] == ["Bearer tok-1", "Bearer tok-2"]
    assert len(http.token_calls) == 2
    assert events.describe_connection(Name="o")["ConnectionState"] == "AUTHORIZED"


def test_basic_401_deauthorizes_and_deauthorized_connection_sends_nothing(broker, events, sqs, http):
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    conn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
    _route(events, _destination(events, conn, f"{http.url}/hook"), DeadLetterConfig={"Arn": dlq_arn})
    http.statuses[:] = [401]
    _put(events, {"n": 1})
    http.wait(1)
    described = _wait_state(events, "c", "DEAUTHORIZED")  # as EventBridge does for Basic and API key connections
    assert described["ConnectionState"] == "DEAUTHORIZED" and "401" in described["StateReason"]
    broker.advance(600)
    messages = []
    deadline = time.monotonic() + 15
    while not messages and time.monotonic() < deadline:
        broker.run_job("events.deliveries")
        messages = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1, MessageAttributeNames=["All"]).get(
            "Messages", []
        )
    assert "not authorized" in messages[0]["MessageAttributes"]["ERROR_MESSAGE"]["StringValue"]
    assert len(http.requests) == 1  # the retry did not call the endpoint

    # Deauthorized by hand: nothing reaches the endpoint, the event goes to the dead-letter queue.
    events.update_connection(Name="c", AuthParameters=BASIC)
    assert events.describe_connection(Name="c")["ConnectionState"] == "AUTHORIZED"
    events.deauthorize_connection(Name="c")
    event_id = _put(events, {"n": 2})
    body = json.loads(sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=10)["Messages"][0]["Body"])
    assert body["id"] == event_id
    assert len(http.requests) == 1


def test_invocation_rate_limit(broker, events, http):
    conn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
    dest = events.create_api_destination(
        Name="slow",
        ConnectionArn=conn,
        InvocationEndpoint=f"{http.url}/slow",
        HttpMethod="POST",
        InvocationRateLimitPerSecond=1,
    )["ApiDestinationArn"]
    _route(events, dest)
    entries = [{"Source": "my.app", "DetailType": "thing", "Detail": json.dumps({"n": n})} for n in range(5)]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    http.wait(1)
    time.sleep(0.3)
    assert len(http.requests) == 1  # the others are over the rate: retried later
    deadline = time.monotonic() + 20
    while len(http.requests) < 5 and time.monotonic() < deadline:
        broker.advance(600)
        broker.run_job("events.deliveries")
        time.sleep(0.2)
    assert sorted(json.loads(r["body"])["detail"]["n"] for r in http.requests) == [0, 1, 2, 3, 4]


def test_token_counts_with_two_workers(server_factory, backend, http):
    server = server_factory(backend, workers=2).start()
    events = server.client("events")
    out = events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=_oauth(http))
    assert _wait_state(events, "o", "AUTHORIZED")["ConnectionState"] == "AUTHORIZED"
    _route(events, _destination(events, out["ConnectionArn"], f"{http.url}/secured"))
    for n in range(8):
        _put(events, {"n": n})
    requests = http.wait(8)
    # Each worker caches the token it fetched: one fetch per worker (and one more if the authorization job found the
    # connection still AUTHORIZING on a slow machine), never one per call; every call with a token issued.
    issued = {f"Bearer tok-{i + 1}" for i in range(len(http.token_calls))}
    assert 1 <= len(http.token_calls) <= 3
    assert {r["headers"]["Authorization"] for r in requests} <= issued
