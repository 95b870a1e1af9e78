"""Requests the broker makes to its own host names are served by itself on loopback, without DNS: an SNS HTTP
subscription to an execute-api URL, and an HTTP_PROXY integration to a name listed in `own_host_names` (neither
name resolves on this machine)."""

from __future__ import annotations

import json

import httpx

from tests.sns.helpers import Endpoint


def _proxy_api(gw, uri: str) -> str:
    """A REST API whose POST /hook passes requests through to `uri` (HTTP_PROXY), deployed to `prod`."""
    api = gw.create_rest_api(name="relay")
    hook = gw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="hook")
    gw.put_method(restApiId=api["id"], resourceId=hook["id"], httpMethod="POST", authorizationType="NONE")
    gw.put_integration(
        restApiId=api["id"], resourceId=hook["id"], httpMethod="POST", type="HTTP_PROXY",
        integrationHttpMethod="POST", uri=uri,
    )  # fmt: skip
    gw.create_deployment(restApiId=api["id"], stageName="prod")
    return str(api["id"])


def test_sns_subscription_to_an_execute_api_host(broker):
    endpoint = Endpoint()
    try:
        gw, sns = broker.client("apigateway"), broker.client("sns")
        api_id = _proxy_api(gw, endpoint.url)
        topic = sns.create_topic(Name="own-hosts")["TopicArn"]
        url = f"http://{api_id}.execute-api.us-east-1.amazonaws.com/prod/hook"
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
        (request,) = endpoint.wait_for(1)
        assert json.loads(request["body"])["Type"] == "SubscriptionConfirmation"
        assert request["headers"]["x-amz-sns-topic-arn"] == topic
    finally:
        endpoint.close()


def test_configured_own_host_name(server_factory):
    broker = server_factory(env={"BROKER_OWN_HOST_NAMES": "broker.internal, Gateway.Example"}).start()
    endpoint = Endpoint()
    try:
        gw = broker.client("apigateway")
        inner = _proxy_api(gw, endpoint.url)
        outer = _proxy_api(gw, f"http://gateway.example:{broker.port}/_aws/execute-api/{inner}/prod/hook")
        r = httpx.post(f"{broker.url}/_aws/execute-api/{outer}/prod/hook", content=b"ping", timeout=30)
        assert r.status_code == 200, r.text
        (request,) = endpoint.wait_for(1)
        assert request["body"] == "ping"
    finally:
        endpoint.close()
