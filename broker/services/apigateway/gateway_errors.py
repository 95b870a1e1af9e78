"""Answers API Gateway gives instead of the integration's (gateway responses): a step of the data plane raises
`GatewayError(response type)`; `answer()` renders it with the deployed API's customised gateway response of that
type, else its DEFAULT_4XX / DEFAULT_5XX one, else AWS's default — status code, `gatewayresponse.header.*`
parameters and the body template, which sees `$context.error.message`, `messageString` and `responseType`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from broker.services.apigateway import templates
from broker.services.apigateway.gateway_response_operations import DEFAULT_TEMPLATES, STATUS
from broker.services.data_plane import FRAMING, result_header

Doc = dict[str, Any]
Response = tuple[int, list[tuple[bytes, bytes]], bytes]

# AWS's default messages and x-amzn-ErrorType values by response type.
MESSAGES: dict[str, tuple[str, str | None]] = {
    "MISSING_AUTHENTICATION_TOKEN": ("Missing Authentication Token", "MissingAuthenticationTokenException"),
    "RESOURCE_NOT_FOUND": ("Not Found", "NotFoundException"),
    "UNAUTHORIZED": ("Unauthorized", "UnauthorizedException"),
    "ACCESS_DENIED": ("User is not authorized to access this resource", "AccessDeniedException"),
    "INVALID_API_KEY": ("Forbidden", "ForbiddenException"),
    "THROTTLED": ("Too Many Requests", "TooManyRequestsException"),
    "QUOTA_EXCEEDED": ("Limit Exceeded", "LimitExceededException"),
    "BAD_REQUEST_BODY": ("Invalid request body", "BadRequestException"),
    "BAD_REQUEST_PARAMETERS": ("Missing required request parameters", "BadRequestException"),
    "REQUEST_TOO_LARGE": ("Request Too Long", "BadRequestException"),
    "UNSUPPORTED_MEDIA_TYPE": ("Unsupported Media Type", "UnsupportedMediaTypeException"),
    "INTEGRATION_TIMEOUT": ("Endpoint request timed out", "InternalServerErrorException"),
    "INTEGRATION_FAILURE": ("Internal server error", "InternalServerErrorException"),
    "AUTHORIZER_FAILURE": ("Internal server error", "AuthorizerFailureException"),
    "AUTHORIZER_CONFIGURATION_ERROR": ("", "AuthorizerConfigurationException"),
    "API_CONFIGURATION_ERROR": ("Internal server error", "InternalServerErrorException"),
    "EXPIRED_TOKEN": ("Token expired", "ExpiredTokenException"),
    "INVALID_SIGNATURE": ("Invalid signature", "InvalidSignatureException"),
    "WAF_FILTERED": ("Forbidden", "WAFFilteredException"),
    "DEFAULT_4XX": ("Forbidden", "ForbiddenException"),
    "DEFAULT_5XX": ("Internal server error", "InternalServerErrorException"),
}
# AWS's own (uncustomised) answers of these types and of every 5xx one write a space after the colon.
_SPACED_TYPES = {"BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS", "REQUEST_TOO_LARGE"}
_SPACED = {"application/json": '{"message": $context.error.messageString}'}


class GatewayError(Exception):
    """A request ends at the gateway with the response of `response_type`; `status` overrides the type's default
    code (a DEFAULT_4XX/5XX answer, a 502 of a malformed Lambda result), `message` its default text; `validation`
    is $context.error.validationErrorString when it differs from the message (a body's schema violations)."""

    def __init__(
        self,
        response_type: str,
        message: str | None = None,
        status: int | None = None,
        validation: str | None = None,
        error_type: str | None = None,
        template: dict[str, str] | None = None,
    ) -> None:
        super().__init__(response_type)
        self.template = template  # the body templates of AWS's uncustomised answer, when not the type's default
        self.validation = validation
        self.response_type = response_type
        self.message = message if message is not None else MESSAGES[response_type][0]
        default = STATUS.get(response_type)
        self.status = status if status is not None else int(default) if default else 500
        self.error_type = error_type or MESSAGES[response_type][1]


def too_large() -> Response:
    """A payload over the 10 MB limit: answered before any API is looked at, in plain text (not customisable)."""
    return 413, [(b"content-type", b"text; charset=utf-8")], b"HTTP content length exceeded 10485760 bytes."


def bare_request(scope: Any, stage: Doc) -> templates.Request:
    """What the gateway response of a request that matched no method sees: its headers, query string and the
    stage's variables."""
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    return templates.Request(headers=headers, querystring=query, stage_variables=stage.get("variables") or {})


def _customised(responses: list[Doc], error: GatewayError) -> Doc | None:
    by_type = {r.get("responseType"): r for r in responses}
    family = "DEFAULT_4XX" if error.status < 500 else "DEFAULT_5XX"
    return by_type.get(error.response_type) or by_type.get(family)


def answer(error: GatewayError, responses: list[Doc], request: templates.Request | None = None) -> Response:
    """The gateway response for `error` under the API's deployed customisations (`responses`)."""
    custom = _customised(responses, error)
    status = error.status
    if custom is not None and custom.get("statusCode"):  # a DEFAULT_4XX/5XX code applies to the types it covers
        status = int(custom["statusCode"])
    headers: list[tuple[bytes, bytes]] = []
    if error.error_type:
        headers.append((b"x-amzn-errortype", error.error_type.encode()))
    response_templates = (custom or {}).get("responseTemplates") or error.template or DEFAULT_TEMPLATES
    if custom is None and (status >= 500 or error.response_type in _SPACED_TYPES):
        response_templates = _SPACED
    content_type, template = next(iter(response_templates.items()), ("application/json", ""))
    if "application/json" in response_templates:
        content_type, template = "application/json", response_templates["application/json"]
    headers.insert(0, (b"content-type", content_type.encode("latin-1", "replace")))
    request = request or templates.Request()
    for name, source in ((custom or {}).get("responseParameters") or {}).items():
        value = _parameter(str(source), request)
        if not name.startswith("gatewayresponse.header.") or value is None:
            continue
        # A value may carry request input: one that cannot be a header value is not sent.
        header = result_header(name[len("gatewayresponse.header.") :], value)
        if header is not None and header[0] not in FRAMING:
            headers = [h for h in headers if h[0] != header[0]] + [header]
    context = {
        **request.context,
        "error": {
            "message": error.message,
            "messageString": json.dumps(error.message) if error.message else "null",  # {"message": null}
            "responseType": error.response_type,
            "validationErrorString": error.validation
            if error.validation is not None
            else error.message
            if error.response_type.startswith("BAD_REQUEST")
            else "",
        },
    }
    try:
        body = templates.render(template or "", templates.Request(
            body=b"", path=request.path, querystring=request.querystring, headers=request.headers,
            context=context, stage_variables=request.stage_variables,
        )).text.encode()  # fmt: skip
    except templates.TemplateError:
        body = json.dumps({"message": error.message or None}).encode()
    return status, headers, body


def _parameter(source: str, request: templates.Request) -> str | None:
    """A gateway response parameter's value: a 'literal', method.request.{header,querystring,path}.X or
    stageVariables.X."""
    source = source.strip()
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return source[1:-1]
    for prefix, table in (
        ("method.request.header.", {k.lower(): v for k, v in request.headers.items()}),
        ("method.request.querystring.", request.querystring),
        ("method.request.path.", request.path),
        ("stageVariables.", request.stage_variables),
    ):
        if source.startswith(prefix):
            name = source[len(prefix) :]
            return table.get(name.lower() if prefix.endswith("header.") else name)
    return None
