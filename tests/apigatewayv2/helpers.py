"""Shared by the API Gateway v2 control-plane tests."""

from __future__ import annotations

from tests.apigateway.helpers import error_of

__all__ = [
    "AUTHORIZER_URI",
    "JWT",
    "LAMBDA",
    "error_of",
    "http_api",
    "jwt_authorizer",
    "lambda_integration",
    "websocket_api",
]

LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:f"
AUTHORIZER_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"
)
JWT = {"Issuer": "https://issuer.example", "Audience": ["aud"]}


def http_api(gw2, name: str = "api", **kw) -> str:
    return gw2.create_api(Name=name, ProtocolType="HTTP", **kw)["ApiId"]


def lambda_integration(gw2, api_id: str, **kw) -> str:
    kw.setdefault("PayloadFormatVersion", "2.0")
    return gw2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=LAMBDA, **kw)[
        "IntegrationId"
    ]


def websocket_api(gw2, name: str = "ws", selection: str = "$request.body.action") -> str:
    return gw2.create_api(Name=name, ProtocolType="WEBSOCKET", RouteSelectionExpression=selection)["ApiId"]


def jwt_authorizer(gw2, api_id: str, name: str = "jwt", **kw) -> str:
    """A JWT authorizer (JWT's issuer and audience) reading the Authorization header."""
    kw.setdefault("JwtConfiguration", JWT)
    return gw2.create_authorizer(
        ApiId=api_id, Name=name, AuthorizerType="JWT", IdentitySource=["$request.header.Authorization"], **kw
    )["AuthorizerId"]
