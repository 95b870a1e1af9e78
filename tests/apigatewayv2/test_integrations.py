"""Integrations: the types each protocol takes, AWS's defaults (TimeoutInMillis, ConnectionType, the method of
Lambda proxies), payload format versions, updates and deletion; WebSocket integration responses."""

from __future__ import annotations

from tests.apigatewayv2.helpers import LAMBDA, error_of, http_api, lambda_integration, websocket_api


def test_lambda_proxy_integration_defaults(gw2):
    api_id = http_api(gw2)
    out = gw2.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=LAMBDA, PayloadFormatVersion="2.0"
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert len(out["IntegrationId"]) == 7
    assert out["ConnectionType"] == "INTERNET"
    assert out["IntegrationMethod"] == "POST"
    assert out["TimeoutInMillis"] == 30000
    assert out["PayloadFormatVersion"] == "2.0"
    got = gw2.get_integration(ApiId=api_id, IntegrationId=out["IntegrationId"])
    got.pop("ResponseMetadata")
    out.pop("ResponseMetadata")
    assert got == out


def test_http_proxy_integration(gw2):
    api_id = http_api(gw2)
    out = gw2.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationUri="https://example.com/{proxy}",
        IntegrationMethod="GET",
        TimeoutInMillis=5000,
        RequestParameters={"append:header.x-from": "broker"},
    )
    assert (out["IntegrationMethod"], out["PayloadFormatVersion"], out["TimeoutInMillis"]) == ("GET", "1.0", 5000)
    assert out["RequestParameters"] == {"append:header.x-from": "broker"}
    e = error_of(
        gw2.create_integration, 400, ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri="https://example.com"
    )
    assert e["Code"] == "BadRequestException" and "IntegrationMethod" in e["Message"]
    e = error_of(
        gw2.create_integration,
        400,
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationUri="example.com",
        IntegrationMethod="GET",
    )
    assert e["Code"] == "BadRequestException"


def test_integration_validation(gw2, broker):
    api_id = http_api(gw2)
    cases = [
        {"IntegrationType": "MOCK"},  # not for HTTP APIs
        {"IntegrationType": "AWS", "IntegrationUri": LAMBDA},
        {"IntegrationType": "AWS_PROXY", "IntegrationUri": LAMBDA},  # PayloadFormatVersion required
        {"IntegrationType": "AWS_PROXY", "IntegrationUri": LAMBDA, "PayloadFormatVersion": "3.0"},
        {"IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0"},
        {"IntegrationType": "HTTP_PROXY", "IntegrationUri": "https://e.x", "IntegrationMethod": "GET",
         "PayloadFormatVersion": "2.0"},
        {"IntegrationType": "HTTP_PROXY", "IntegrationUri": "https://e.x", "IntegrationMethod": "GET",
         "ConnectionType": "VPC_LINK"},
        {"IntegrationType": "AWS_PROXY", "IntegrationUri": LAMBDA, "PayloadFormatVersion": "2.0",
         "CredentialsArn": "role"},
        {"IntegrationType": "AWS_PROXY", "IntegrationUri": LAMBDA, "PayloadFormatVersion": "2.0",
         "PassthroughBehavior": "NEVER"},
    ]  # fmt: skip
    for case in cases:
        e = error_of(gw2.create_integration, 400, ApiId=api_id, **case)
        assert e["Code"] == "BadRequestException", case
    raw = broker.client("apigatewayv2", parameter_validation=False)
    e = error_of(raw.create_integration, 400, ApiId=api_id, IntegrationType="AWS_PROXY", TimeoutInMillis=10)
    assert e["Code"] == "BadRequestException"  # the model's bound, before anything else
    assert gw2.get_integrations(ApiId=api_id)["Items"] == []


def test_update_and_delete_integration(gw2):
    api_id = http_api(gw2)
    integration_id = lambda_integration(gw2, api_id)
    out = gw2.update_integration(
        ApiId=api_id, IntegrationId=integration_id, PayloadFormatVersion="1.0", TimeoutInMillis=900
    )
    assert (out["PayloadFormatVersion"], out["TimeoutInMillis"]) == ("1.0", 900)
    e = error_of(gw2.update_integration, 400, ApiId=api_id, IntegrationId=integration_id, IntegrationType="MOCK")
    assert e["Code"] == "BadRequestException"
    assert gw2.get_integration(ApiId=api_id, IntegrationId=integration_id)["IntegrationType"] == "AWS_PROXY"
    gw2.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    e = error_of(gw2.get_integration, 404, ApiId=api_id, IntegrationId=integration_id)
    assert e == {
        "Code": "NotFoundException",
        "Message": f"Invalid Integration identifier specified {integration_id}",
    }


def test_websocket_integrations_and_responses(gw2):
    api_id = websocket_api(gw2)
    mock = gw2.create_integration(ApiId=api_id, IntegrationType="MOCK", RequestTemplates={"$default": "{}"})
    assert mock["TimeoutInMillis"] == 29000
    assert mock["PassthroughBehavior"] == "WHEN_NO_MATCH"
    assert mock["PayloadFormatVersion"] == "1.0"
    e = error_of(gw2.create_integration, 400, ApiId=api_id, IntegrationType="AWS", TimeoutInMillis=30000)
    assert e["Code"] == "BadRequestException"
    integration_id = mock["IntegrationId"]
    resp = gw2.create_integration_response(
        ApiId=api_id, IntegrationId=integration_id, IntegrationResponseKey="$default"
    )
    assert resp["IntegrationResponseKey"] == "$default"
    rid = resp["IntegrationResponseId"]
    e = error_of(
        gw2.create_integration_response,
        409,
        ApiId=api_id,
        IntegrationId=integration_id,
        IntegrationResponseKey="$default",
    )
    assert e["Code"] == "ConflictException"
    e = error_of(
        gw2.create_integration_response, 400, ApiId=api_id, IntegrationId=integration_id, IntegrationResponseKey="200"
    )
    assert e["Code"] == "BadRequestException"
    out = gw2.update_integration_response(
        ApiId=api_id, IntegrationId=integration_id, IntegrationResponseId=rid, IntegrationResponseKey="/2\\d\\d/"
    )
    assert out["IntegrationResponseKey"] == "/2\\d\\d/"
    got = gw2.get_integration_response(ApiId=api_id, IntegrationId=integration_id, IntegrationResponseId=rid)
    assert got["IntegrationResponseKey"] == "/2\\d\\d/"
    assert len(gw2.get_integration_responses(ApiId=api_id, IntegrationId=integration_id)["Items"]) == 1
    gw2.delete_integration_response(ApiId=api_id, IntegrationId=integration_id, IntegrationResponseId=rid)
    e = error_of(
        gw2.get_integration_response, 404, ApiId=api_id, IntegrationId=integration_id, IntegrationResponseId=rid
    )
    assert e["Message"] == f"Invalid IntegrationResponse identifier specified {rid}"
    http = http_api(gw2)
    hid = lambda_integration(gw2, http)
    e = error_of(gw2.create_integration_response, 400, ApiId=http, IntegrationId=hid, IntegrationResponseKey="$default")
    assert e["Code"] == "BadRequestException"


def test_parameter_mappings_change_key_by_key(gw2):
    """UpdateIntegration merges an HTTP API's parameter mappings: "" removes one, {} a status code's, others stay."""
    api_id = http_api(gw2)
    integration = gw2.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri="http://127.0.0.1:9/x", IntegrationMethod="GET",
        RequestParameters={"append:header.a": "1", "overwrite:path": "/p"},
        ResponseParameters={"200": {"append:header.r": "1"}, "404": {"overwrite:statuscode": "410"}},
    )["IntegrationId"]  # fmt: skip
    out = gw2.update_integration(
        ApiId=api_id, IntegrationId=integration, RequestParameters={"append:header.a": "", "append:header.b": "2"},
        ResponseParameters={"200": {}},
    )  # fmt: skip
    assert out["RequestParameters"] == {"overwrite:path": "/p", "append:header.b": "2"}
    assert out["ResponseParameters"] == {"404": {"overwrite:statuscode": "410"}}
    got = gw2.get_integration(ApiId=api_id, IntegrationId=integration)
    assert (got["RequestParameters"], got["ResponseParameters"]) == (
        out["RequestParameters"],
        out["ResponseParameters"],
    )
