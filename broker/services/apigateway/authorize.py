"""Authorization of a request on the data plane, by the method's authorizationType: NONE passes; CUSTOM runs the
deployed Lambda authorizer (TOKEN or REQUEST) named by the method's authorizerId and evaluates the IAM policy it
returns against the request's method ARN (results cached per process for the authorizer's TTL, authorizer_cache.py);
AWS_IAM requires a SigV4 signature (with auth = "sigv4" a verified one; else its form is what is checked) and names
the signer in requestContext.identity; Cognito user pool authorizers are not supported (500). The API's resource
policy takes part as API Gateway's authorization flow says (api_policy.py)."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import time
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import orjson

from broker.auth import sigv4
from broker.auth.errors import INVALID_TOKEN, MISMATCH, AuthFailure
from broker.auth.resource_policy import Decision
from broker.identity import Identity, SigningKey
from broker.protocol.base import parse_credential
from broker.services.apigateway import api_policy, lambda_proxy
from broker.services.apigateway.authorizer_cache import AUTHORIZER_CACHE, entry_key, stage_key
from broker.services.apigateway.call import Call, Doc
from broker.services.apigateway.gateway_errors import GatewayError

DEFAULT_TTL = 300
EXPLICIT_DENY = "User is not authorized to access this resource with an explicit deny"
COGNITO_UNSUPPORTED = "Cognito user pool authorizers are not supported by this broker"
INVOKE = "execute-api:Invoke"
SIGV4 = "AWS4-HMAC-SHA256"


def unauthorized() -> GatewayError:
    return GatewayError("UNAUTHORIZED")


def configuration_error(message: str = "") -> GatewayError:
    """AWS answers a failed or malformed authorizer with {"message": null} (the empty message renders as null)."""
    return GatewayError("AUTHORIZER_CONFIGURATION_ERROR", message)


async def authorize(call: Call) -> None:
    """Run the method's authorizer; refuse the request with the gateway response AWS gives, else note the
    authorizer's result on the call ($context.authorizer, requestContext.authorizer)."""
    method = call.matched.method
    kind = method.get("authorizationType") or "NONE"
    arn = method_arn(call.region, call.account, call.api_id, call.stage["stageName"], call.method, call.path)
    if kind == "AWS_IAM":
        call.extras["identity"] = iam_identity(call)
        if call.env.settings.sigv4:
            signer = await verified_key(call)
            call.extras["identity"] = _identity_doc(signer.identity, signer.access_key_id)
            api_policy.check_iam(call, signer.identity, arn)
        return
    # Any other request is anonymous to the resource policy: its explicit Deny refuses it before an authorizer runs.
    resource = api_policy.decision(call, None, arn)
    if resource is Decision.DENY:
        raise api_policy.refusal(None, arn, explicit=True)
    if kind == "NONE":
        if resource is Decision.NONE:
            raise api_policy.refusal(None, arn, explicit=False)
        return
    if kind == "COGNITO_USER_POOLS":
        raise configuration_error(COGNITO_UNSUPPORTED)
    authorizer = next((a for a in call.deployed("_authorizers") if a.get("id") == method.get("authorizerId")), None)
    if authorizer is None:
        raise configuration_error()
    if authorizer.get("type") == "COGNITO_USER_POOLS":
        raise configuration_error(COGNITO_UNSUPPORTED)
    request = lambda_proxy.proxy_event(call)
    sources = request_sources(call, request)
    identity = identity_values(authorizer, sources)
    ttl = authorizer.get("authorizerResultTtlInSeconds", DEFAULT_TTL)
    # A REQUEST authorizer without identity sources has nothing to key a cached result by.
    cacheable = bool(ttl) and bool(identity)
    cache = call.env.get(AUTHORIZER_CACHE)
    key = entry_key(
        stage_key(call.account, call.region, call.api_id, call.stage["stageName"]), authorizer["id"], identity
    )
    result = cache.get(key) if cacheable else None
    latency = 0
    if result is None:
        started = time.monotonic()
        event = authorizer_event(authorizer, identity, arn, request)
        result = await run_authorizer(call, authorizer, event)
        latency = int((time.monotonic() - started) * 1000)
        if cacheable:
            cache.keep(key, result, int(ttl))
    effects = _effects(result["policyDocument"], arn)
    # The authorizer's Allow, or the resource policy's, lets the request through; the authorizer's Deny never does.
    if "Deny" in effects or ("Allow" not in effects and resource is not Decision.ALLOW):
        raise result_denial(result["policyDocument"], arn)
    call.authorizer = {**result["context"], "principalId": result["principalId"], "integrationLatency": latency}
    if result.get("usageIdentifierKey") is not None:
        call.extras["usage_identifier_key"] = result["usageIdentifierKey"]


# -- identity sources ------------------------------------------------------------------------------------------


def request_sources(call: Call, event: Doc) -> Doc:
    """What identity sources read of a request: headers (lower-case names), query string, stage variables and the
    request context (of its proxy event)."""
    headers: dict[str, str] = {}
    for k, v in call.scope["headers"]:
        headers.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
    query = dict(parse_qsl(call.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    stage = call.stage.get("variables") or {}
    return {"headers": headers, "query": query, "stage": stage, "context": event["requestContext"]}


def _source_value(source: str, sources: Doc) -> str:
    for prefix, table, fold in (
        ("method.request.header.", "headers", True),
        ("method.request.querystring.", "query", False),
        ("stageVariables.", "stage", False),
    ):
        if source.startswith(prefix):
            name = source[len(prefix) :]
            return str(sources[table].get(name.lower() if fold else name) or "")
    if source.startswith("context."):
        value: Any = sources["context"]
        for part in source[len("context.") :].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return "" if value is None or isinstance(value, dict | list) else str(value)
    return ""


def identity_values(authorizer: Doc, sources: Doc) -> list[str]:
    """The identity source values of a request, in the authorizer's order: 401 when one is missing or empty (and,
    for a TOKEN authorizer, when the token fails the identityValidationExpression), without invoking the function."""
    spec = str(authorizer.get("identitySource") or "")
    names = [s.strip() for s in spec.split(",") if s.strip()]
    values = [_source_value(name, sources) for name in names]
    if any(not v for v in values):
        raise unauthorized()
    if authorizer.get("type") == "TOKEN":
        if not values:
            raise unauthorized()
        expression = authorizer.get("identityValidationExpression")
        if expression and not _matches_expression(str(expression), values[0]):
            raise unauthorized()
    return values


def _matches_expression(expression: str, token: str) -> bool:
    try:
        return re.fullmatch(expression, token) is not None
    except re.error:
        return False


def method_arn(region: str, account: str, api_id: str, stage: str, verb: str, path: str) -> str:
    """arn:aws:execute-api:{region}:{account}:{api}/{stage}/{verb}/{path without its leading slash}."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{verb}{path}"


def authorizer_event(authorizer: Doc, identity: list[str], arn: str, proxy_event: Doc) -> Doc:
    """The event a Lambda authorizer gets: TOKEN {type, authorizationToken, methodArn}; REQUEST the request as a
    proxy integration sees it (no body) after {type, methodArn}."""
    if authorizer.get("type") == "TOKEN":
        return {"type": "TOKEN", "methodArn": arn, "authorizationToken": identity[0]}
    event = {"type": "REQUEST", "methodArn": arn, **proxy_event}
    event.pop("body", None)
    event.pop("isBase64Encoded", None)
    return event


# -- the function and its answer -------------------------------------------------------------------------------


async def run_authorizer(call: Call, authorizer: Doc, event: Doc) -> Doc:
    """Invoke the authorizer's function and check its answer: {principalId, policyDocument, context (strings),
    usageIdentifierKey}. The function's "Unauthorized" error is a 401; any other error or a malformed answer 500."""
    try:
        payload, failed = await lambda_proxy.invoke(
            call, str(authorizer.get("authorizerUri") or ""), orjson.dumps(event)
        )
    except GatewayError as e:
        raise configuration_error() from e
    if failed:
        try:
            error = orjson.loads(payload)
        except orjson.JSONDecodeError:
            error = None
        if isinstance(error, dict) and error.get("errorMessage") == "Unauthorized":
            raise unauthorized()
        raise configuration_error()
    return parse_result(payload)


def parse_result(payload: bytes) -> Doc:
    try:
        answer = orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        raise configuration_error() from e
    if not isinstance(answer, dict):
        raise configuration_error()
    principal = answer.get("principalId")
    policy = answer.get("policyDocument")
    if principal is None or isinstance(principal, dict | list) or not isinstance(policy, dict):
        raise configuration_error()
    statements = _statements(policy)
    if statements is None:
        raise configuration_error()
    context = answer.get("context") or {}
    if not isinstance(context, dict):
        raise configuration_error()
    values: dict[str, str] = {}
    for k, v in context.items():
        if isinstance(v, dict | list):
            raise configuration_error()  # only strings, numbers and booleans may be context values
        if v is not None:
            values[str(k)] = _text(v)
    key = answer.get("usageIdentifierKey")
    return {
        "principalId": _text(principal),
        "policyDocument": policy,
        "context": values,
        "usageIdentifierKey": None if key is None else _text(key),
    }


def _text(value: Any) -> str:
    """A context value as API Gateway passes it on: stringified (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- policy evaluation -----------------------------------------------------------------------------------------


def _statements(policy: Doc) -> list[Doc] | None:
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        return None
    if any(s.get("Effect") not in ("Allow", "Deny") for s in statements):
        return None
    return statements


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str, fold: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if fold else 0))


def _any_match(patterns: list[str], value: str, fold: bool) -> bool:
    return any(_pattern(p, fold).fullmatch(value) is not None for p in patterns)


def _applies(statement: Doc, arn: str) -> bool:
    """Whether a statement covers invoking `arn` (actions compare case-insensitively, resources exactly)."""
    if "NotAction" in statement:
        action = not _any_match(_as_list(statement["NotAction"]), INVOKE, True)
    else:
        action = _any_match(_as_list(statement.get("Action")), INVOKE, True)
    if "NotResource" in statement:
        resource = not _any_match(_as_list(statement["NotResource"]), arn, False)
    else:
        resource = _any_match(_as_list(statement.get("Resource")), arn, False)
    return action and resource


def _effects(policy: Doc, arn: str) -> set[str]:
    return {str(s["Effect"]) for s in _statements(policy) or [] if _applies(s, arn)}


def result_denial(policy: Doc, arn: str) -> GatewayError:
    if "Deny" in _effects(policy, arn):
        return GatewayError("ACCESS_DENIED", EXPLICIT_DENY)
    return GatewayError("ACCESS_DENIED")


# -- AWS_IAM ---------------------------------------------------------------------------------------------------


def iam_identity(call: Call) -> Doc:
    """The signer of a SigV4-signed request (Authorization header, or presigned X-Amz-* query parameters) as
    requestContext.identity names it; 403 MISSING_AUTHENTICATION_TOKEN when unsigned."""
    authorization = call.header(b"authorization")
    query = parse_qs(call.scope.get("query_string", b"").decode("latin-1"))
    if authorization:
        credential = _check_header(authorization, call)
    elif "X-Amz-Signature" in query or "X-Amz-Credential" in query:
        credential = _check_query(query)
    else:
        raise GatewayError("MISSING_AUTHENTICATION_TOKEN")
    settings = call.env.settings
    access_key = credential[0]
    is_account = len(access_key) == 12 and access_key.isascii() and access_key.isdigit()
    return _identity_doc(
        Identity(access_key if is_account else settings.default_account, settings.user_name), access_key
    )


async def verified_key(call: Call) -> SigningKey:
    """auth = "sigv4": the key whose secret the signature checks out against (its owner is the signer)."""
    try:
        key, _ = await sigv4.authenticate(call.env, sigv4.request_of(call.scope, call.body))
    except AuthFailure as failure:
        raise _refusal(failure) from None
    return key


def _identity_doc(signer: Identity, access_key: str) -> Doc:
    return {
        "accountId": signer.account,
        "caller": signer.user_id,
        "accessKey": access_key,
        "userArn": signer.arn,
        "user": signer.user_id,
    }


def _refusal(failure: AuthFailure) -> GatewayError:
    """API Gateway's answers: a wrong signature is INVALID_SIGNATURE; an unknown key a 403 naming the invalid
    token (UnrecognizedClientException)."""
    if failure.kind == "incomplete":
        return _incomplete(failure.message)
    if failure.kind == "missing":
        return GatewayError("MISSING_AUTHENTICATION_TOKEN")
    if failure.kind == "unknown":
        return GatewayError("DEFAULT_4XX", INVALID_TOKEN, status=403, error_type="UnrecognizedClientException")
    return GatewayError("INVALID_SIGNATURE", failure.message or MISMATCH)


def _incomplete(message: str) -> GatewayError:
    """A malformed signature: API Gateway's 403 IncompleteSignatureException (the INVALID_SIGNATURE response)."""
    return GatewayError("INVALID_SIGNATURE", message, error_type="IncompleteSignatureException")


def _hashed(value: str) -> str:
    """How API Gateway quotes a malformed Authorization header back: hashed, never as it came."""
    return base64.b64encode(hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()).decode()


def _check_header(authorization: str, call: Call) -> tuple[str, str, str]:
    algorithm, _, rest = authorization.partition(" ")
    params: dict[str, str] = {}
    for part in (p.strip() for p in rest.split(",")):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if not eq:
            raise _incomplete(
                "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and "
                f"encoded with Base64): '{_hashed(authorization)}'."
            )
        params[name.strip()] = value.strip()
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    ]
    if not (call.header(b"x-amz-date") or call.header(b"date")):
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing:
        raise _incomplete(" ".join(missing) + f" Authorization={authorization}")
    credential = parse_credential(params["Credential"])
    if algorithm != SIGV4 or credential is None:
        raise _incomplete(f"Authorization header requires 'Credential' parameter. Authorization={authorization}")
    return credential


def _check_query(query: dict[str, list[str]]) -> tuple[str, str, str]:
    missing = [
        f"AWS query-string parameters must include '{name}'."
        for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date")
        if not query.get(name)
    ]
    if missing:
        raise _incomplete(" ".join(missing) + " Re-examine the query-string parameters.")
    credential = parse_credential(query["X-Amz-Credential"][0])
    if credential is None:
        raise _incomplete("AWS query-string parameters must include 'X-Amz-Credential'.")
    return credential
