"""AWS service integrations (type AWS) of REST APIs. The uri names the service and either an action
(`arn:aws:apigateway:<region>:<service>:action/<Action>`) or a path (`...:<service>:path/<path>`, e.g. SQS's
`<account>/<queue>` or Lambda's `2015-03-31/functions/<arn>/invocations`). The rendered request template becomes a
SigV4-signed request, in the API's account and the uri's region, to the broker's own service on its loopback port,
in that service's wire protocol, exactly as an AWS client would send it; the service's answer is mapped back through
the integration responses as an HTTP integration's is (Lambda's by the function's errorMessage instead of the
status code)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import OperationNotFoundError, ServiceModel

from broker.services import aws_loopback
from broker.services.apigateway import templates
from broker.services.apigateway.call import Call, Response
from broker.services.apigateway.gateway_errors import GatewayError
from broker.services.apigateway.http_integration import (
    HOP_BY_HOP,
    STAGE_VARIABLE,
    integration_answer,
    mapped_parameters,
    outgoing_errors,
    timeout,
)
from broker.services.apigateway.integration_responses import UNSAFE, media_type, request_body

_URI = re.compile(r"^arn:aws:apigateway:([^:]*):([^:/]+):(action|path)/(.*)$", re.DOTALL)
_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")
_LAMBDA_INVOKE = re.compile(r"^/?2015-03-31/functions/[^/]+/invocations/?$")
FORM = "application/x-www-form-urlencoded"
# The session name of the integration's credentials role (as CloudTrail shows API Gateway's sessions).
SESSION_NAME = "BackplaneAssumeRoleSession"


def _operation_uri(model: ServiceModel, action: str, path_values: dict[str, str]) -> tuple[str, str]:
    """(path, query) of a rest-json action: the operation's requestUri, its labels filled from the integration's
    path parameters; raises ValueError for an unknown action or a label without a value."""
    try:
        operation = model.operation_model(action)
    except OperationNotFoundError as e:
        raise ValueError(f"unknown action {action}") from e
    path, _, query = str(operation.http.get("requestUri", "/")).partition("?")

    def label(m: re.Match[str]) -> str:
        name = m.group(1).removesuffix("+")
        if name not in path_values:
            raise ValueError(f"no value for {{{name}}}")
        return quote(path_values[name], safe="/" if m.group(1).endswith("+") else "")

    return _PLACEHOLDER.sub(label, path), query


def _outgoing(
    call: Call, integration: dict[str, Any], request: templates.Request, signer: Credentials
) -> tuple[AWSRequest, bool]:
    """The request to the service, signed by `signer`, and whether it invokes a Lambda function; raises
    LookupError (415), TemplateError (BodyError: 400) and ValueError (a uri or service this broker cannot call:
    500)."""
    uri = STAGE_VARIABLE.sub(lambda m: request.stage_variables.get(m.group(1), ""), integration.get("uri") or "")
    m = _URI.match(uri)
    if m is None:
        raise ValueError(f"not an AWS service uri: {uri}")
    region, service, kind, rest = m.group(1) or call.region, m.group(2).rpartition(".")[2], m.group(3), m.group(4)
    model = aws_loopback.served_model(service)
    if model is None:
        raise ValueError(f"service not served: {service}")
    mapped = mapped_parameters(integration, request)
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    body, content_type = request_body(integration, request, content_type, mapped)
    headers: dict[str, str] = {"content-type": content_type} if content_type else {}
    for name, value in mapped["header"].items():
        if name.lower().encode() in HOP_BY_HOP or UNSAFE.search(value):
            continue
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        headers[name] = value
    sent_type = media_type(next((v for k, v in headers.items() if k.lower() == "content-type"), ""))
    query = list(mapped["querystring"].items())
    path = "/"
    if kind == "path":

        def placeholder(p: re.Match[str]) -> str:
            name = p.group(1).removesuffix("+")
            value = mapped["path"].get(name, request.path.get(name))
            if value is None:
                raise ValueError(f"no value for {{{name}}}")
            return quote(value, safe="/" if p.group(1).endswith("+") else "")

        # Literal segments encoded as an SDK encodes them (a function ARN's colons as %3A), then the placeholders.
        path = _PLACEHOLDER.sub(placeholder, "/" + "/".join(quote(s, safe="{}+") for s in rest.split("/")))
    elif model.protocol == "rest-json":
        path, fixed = _operation_uri(model, rest, mapped["path"])
        query = [(k, v) for k, _, v in (q.partition("=") for q in fixed.split("&") if q)] + query
    elif model.protocol == "json" and sent_type != FORM:
        # An awsJson action: its target names the operation, the rendered template is the JSON input.
        version = model.metadata.get("jsonVersion", "1.0")
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        headers["Content-Type"] = sent_type if "json" in sent_type else f"application/x-amz-json-{version}"
        headers["X-Amz-Target"] = f"{model.metadata.get('targetPrefix', '')}.{rest}"
    else:
        query.insert(0, ("Action", rest))  # a query action: the template holds its parameters, form-encoded
    url = aws_loopback.url(call.env.settings, path)
    if query:
        url += "?" + urlencode(query)
    method = str(integration.get("httpMethod") or "POST").upper()
    outgoing = AWSRequest(method=call.method if method == "ANY" else method, url=url, data=body, headers=headers)
    aws_loopback.sign(outgoing, model, region, signer)
    invokes = model.endpoint_prefix == "lambda" and kind == "path" and bool(_LAMBDA_INVOKE.match(rest))
    return outgoing, invokes


async def serve(
    call: Call, integration: dict[str, Any], request: templates.Request, client: httpx.AsyncClient
) -> Response:
    """Call the AWS action the integration names with the rendered request template, as the integration's
    credentials role (the API's account's root without one); map the answer back."""
    signer = await aws_loopback.credentials(call.env, call.account, integration.get("credentials"), SESSION_NAME)
    with outgoing_errors():
        outgoing, invokes = _outgoing(call, integration, request, signer)
    try:
        async with asyncio.timeout(timeout(integration)):
            reply = await client.request(
                outgoing.method, outgoing.url, headers=list(outgoing.headers.items()), content=outgoing.body or b""
            )
    except (TimeoutError, httpx.TimeoutException) as e:
        raise GatewayError("INTEGRATION_TIMEOUT") from e
    except httpx.HTTPError as e:
        raise GatewayError("API_CONFIGURATION_ERROR") from e
    if not invokes:
        # The service's status code (an AWS error's 4xx/5xx included) selects the integration response.
        return integration_answer(integration, request, reply.status_code, reply.headers, reply.content)
    if reply.status_code == 429:
        raise GatewayError("THROTTLED")
    if reply.status_code >= 300:  # Lambda refused the invocation (no such function, ...): not the function's error
        raise GatewayError("API_CONFIGURATION_ERROR")
    # A Lambda function: its error's errorMessage selects the integration response (a success: the empty string).
    key = ""
    if reply.headers.get("x-amz-function-error"):
        try:
            error = json.loads(reply.content)
        except ValueError:
            error = None
        message = error.get("errorMessage") if isinstance(error, dict) else None
        key = message if isinstance(message, str) else "" if message is None else json.dumps(message)
    return integration_answer(integration, request, key, reply.headers, reply.content)
