"""Methods of a resource with their method responses, integration and integration responses: all held in the
resource's document (resourceMethods[httpMethod]), each change a read-modify-write of that one row."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection

from broker.context import RequestContext
from broker.errors import ServiceError
from broker.protocol.spec import Handler
from broker.services.apigateway import errors, patch, store
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS")
INTEGRATION_TYPES = ("HTTP", "AWS", "MOCK", "HTTP_PROXY", "AWS_PROXY")
PASSTHROUGH_BEHAVIORS = ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER")
CONNECTION_TYPES = ("INTERNET", "VPC_LINK")
CONTENT_HANDLINGS = ("CONVERT_TO_BINARY", "CONVERT_TO_TEXT")
MIN_TIMEOUT_MS, MAX_TIMEOUT_MS = 50, 29_000
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.[^}]*\}")

METHOD_PATCHABLE = {
    "authorizationType": patch.STRING,
    "authorizerId": patch.STRING,
    "apiKeyRequired": patch.BOOL,
    "operationName": patch.STRING,
    "requestValidatorId": patch.STRING,
    "requestParameters": patch.MAP,
    "requestModels": patch.MAP,
    "authorizationScopes": patch.SET,
}
METHOD_RESPONSE_PATCHABLE = {"responseParameters": patch.MAP, "responseModels": patch.MAP}
INTEGRATION_PATCHABLE = {
    "uri": patch.STRING,
    "httpMethod": patch.STRING,
    "credentials": patch.STRING,
    "passthroughBehavior": patch.STRING,
    "contentHandling": patch.STRING,
    "cacheNamespace": patch.STRING,
    "connectionType": patch.STRING,
    "connectionId": patch.STRING,
    "timeoutInMillis": patch.INT,
    "requestParameters": patch.MAP,
    "requestTemplates": patch.MAP,
    "cacheKeyParameters": patch.SET,
}
INTEGRATION_RESPONSE_PATCHABLE = {
    "selectionPattern": patch.STRING,
    "contentHandling": patch.STRING,
    "responseParameters": patch.MAP,
    "responseTemplates": patch.MAP,
}


def _method_not_found() -> ServiceError:
    return errors.method_not_found()


def _integration_not_found() -> ServiceError:
    return errors.not_found("Invalid Integration identifier specified")


def _response_not_found() -> ServiceError:
    return errors.not_found("Invalid Response status code specified")


def _resource(conn: Connection, ctx: RequestContext, api_id: str, resource_id: str) -> Doc:
    found = store.get(conn, ctx.account, ctx.region, store.RESOURCE, api_id, resource_id)
    if found is None:
        if store.get(conn, ctx.account, ctx.region, store.REST_API, "", api_id) is None:
            raise errors.api_not_found(ctx.account, api_id)
        raise errors.resource_not_found(ctx.account, resource_id)
    return found


def _method(resource: Doc, http_method: str) -> Doc:
    method = (resource.get("resourceMethods") or {}).get(http_method)
    if method is None:
        raise _method_not_found()
    return dict(method)


def _integration(method: Doc) -> Doc:
    integration = method.get("methodIntegration")
    if integration is None:
        raise _integration_not_found()
    return dict(integration)


def _flags(values: dict[str, Any] | None) -> dict[str, bool]:
    """A map of request/response parameters to their `required` flag (patch values arrive as text)."""
    return {k: v if isinstance(v, bool) else str(v).lower() == "true" for k, v in (values or {}).items()}


async def _read(ctx: RequestContext, p: dict[str, Any], pick: Callable[[Doc], Doc]) -> dict[str, Any]:
    def read(conn: Connection) -> Doc:
        return pick(_method(_resource(conn, ctx, p["restApiId"], p["resourceId"]), p["httpMethod"]))

    return await ctx.env.db.read(read)


async def _change(ctx: RequestContext, p: dict[str, Any], change: Callable[[Doc | None], Doc | None]) -> Any:
    """Applies `change` to the method (None when absent) and stores what it returns (None deletes the method),
    all in one write transaction; answers the method as stored."""
    api_id, resource_id, http_method = p["restApiId"], p["resourceId"], p["httpMethod"]

    def write(tx: Tx) -> Doc | None:
        resource = _resource(tx.conn, ctx, api_id, resource_id)
        methods = dict(resource.get("resourceMethods") or {})
        changed = change(methods.get(http_method))
        if changed is None:
            methods.pop(http_method, None)
        else:
            methods[http_method] = changed
        if methods:
            resource["resourceMethods"] = methods
        else:
            resource.pop("resourceMethods", None)
        store.put(tx, ctx.account, ctx.region, store.RESOURCE, api_id, resource_id, resource)
        return changed

    return await ctx.env.db.write(write)


async def _change_method(ctx: RequestContext, p: dict[str, Any], change: Callable[[Doc], Doc | None]) -> Any:
    """_change of a method that must exist (NotFoundException when it does not)."""

    def existing(current: Doc | None) -> Doc | None:
        if current is None:
            raise _method_not_found()
        return change(current)

    return await _change(ctx, p, existing)


async def _update_response(
    ctx: RequestContext,
    p: dict[str, Any],
    find: Callable[[dict[str, Any], Doc], Doc],
    with_response: Callable[[Doc, str, Doc | None], Doc],
    update: Callable[[Doc], Doc],
) -> Doc:
    """A method or integration response (`find` reads it from a method, `with_response` puts it back) changed by
    `update`; answers it as stored."""
    method: Doc = await _change_method(ctx, p, lambda m: with_response(m, p["statusCode"], update(find(p, m))))
    return find(p, method)


async def _delete_response(
    ctx: RequestContext,
    p: dict[str, Any],
    find: Callable[[dict[str, Any], Doc], Doc],
    with_response: Callable[[Doc, str, Doc | None], Doc],
) -> dict[str, Any]:
    def change(current: Doc) -> Doc:
        find(p, current)  # NotFoundException when there is no such response
        return with_response(current, p["statusCode"], None)

    await _change_method(ctx, p, change)
    return {}


# Methods


def _check_method(method: Doc) -> None:
    if method.get("authorizationType") not in AUTHORIZATION_TYPES:
        raise errors.bad_request("Invalid authorization type specified")


async def put_method(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    http_method = p["httpMethod"]
    if http_method not in HTTP_METHODS:
        raise errors.bad_request("Invalid HTTP method specified")
    method: Doc = {"httpMethod": http_method, "authorizationType": p["authorizationType"]}
    for key in ("authorizerId", "operationName", "requestValidatorId", "requestModels", "authorizationScopes"):
        if p.get(key):
            method[key] = p[key]
    method["apiKeyRequired"] = bool(p.get("apiKeyRequired", False))
    if p.get("requestParameters"):
        method["requestParameters"] = _flags(p["requestParameters"])
    _check_method(method)

    def change(current: Doc | None) -> Doc:
        if current is not None:
            raise errors.conflict("Method already exists for this resource")
        return method

    result: Doc = await _change(ctx, p, change)
    return result


async def get_method(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _read(ctx, p, lambda m: m)


async def update_method(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def change(current: Doc) -> Doc:
        changed = patch.apply(current, p.get("patchOperations"), METHOD_PATCHABLE)
        changed.setdefault("apiKeyRequired", False)
        if "requestParameters" in changed:
            changed["requestParameters"] = _flags(changed["requestParameters"])
        _check_method(changed)
        return changed

    result: Doc = await _change_method(ctx, p, change)
    return result


async def delete_method(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    await _change_method(ctx, p, lambda current: None)
    return {}


# Method responses


def _method_response(p: dict[str, Any], method: Doc) -> Doc:
    found = (method.get("methodResponses") or {}).get(p["statusCode"])
    if found is None:
        raise _response_not_found()
    return dict(found)


def _with_method_response(method: Doc, status: str, response: Doc | None) -> Doc:
    responses = dict(method.get("methodResponses") or {})
    if response is None:
        responses.pop(status, None)
    else:
        responses[status] = response
    out = {k: v for k, v in method.items() if k != "methodResponses"}
    if responses:
        out["methodResponses"] = responses
    return out


async def put_method_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    status = p["statusCode"]
    response: Doc = {"statusCode": status}
    if p.get("responseParameters"):
        response["responseParameters"] = _flags(p["responseParameters"])
    if p.get("responseModels"):
        response["responseModels"] = p["responseModels"]

    def change(current: Doc) -> Doc:
        if status in (current.get("methodResponses") or {}):
            raise errors.conflict("Response already exists for this resource")
        return _with_method_response(current, status, response)

    await _change_method(ctx, p, change)
    return response


async def get_method_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _read(ctx, p, lambda m: _method_response(p, m))


async def update_method_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def update(response: Doc) -> Doc:
        changed = patch.apply(response, p.get("patchOperations"), METHOD_RESPONSE_PATCHABLE)
        if "responseParameters" in changed:
            changed["responseParameters"] = _flags(changed["responseParameters"])
        return changed

    return await _update_response(ctx, p, _method_response, _with_method_response, update)


async def delete_method_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _delete_response(ctx, p, _method_response, _with_method_response)


# Integrations


def _check_uri(kind: str, uri: str | None) -> None:
    if kind in ("HTTP", "HTTP_PROXY"):
        parts = urlsplit(STAGE_VARIABLE.sub("x", uri or ""))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise errors.bad_request("Invalid HTTP endpoint specified for URI")
        return
    fields = (uri or "").split(":", 5)
    if len(fields) != 6 or fields[0] != "arn" or fields[2] != "apigateway":
        raise errors.bad_request("Invalid ARN specified in the request")
    if not fields[5].startswith(("path/", "action/")):
        raise errors.bad_request("AWS ARN for integration must contain path or action")
    if kind == "AWS_PROXY" and fields[4] not in ("lambda", "firehose"):
        raise errors.bad_request(
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations."
        )


def check_integration(integration: Doc) -> None:
    kind = integration["type"]
    if kind != "MOCK":
        if not integration.get("httpMethod"):
            raise errors.bad_request("Enumeration value for HttpMethod must be non-empty")
        _check_uri(kind, integration.get("uri"))
    timeout = integration["timeoutInMillis"]
    if not MIN_TIMEOUT_MS <= timeout <= MAX_TIMEOUT_MS:
        raise errors.bad_request(f"Timeout should be between {MIN_TIMEOUT_MS} ms and {MAX_TIMEOUT_MS} ms")
    behavior = integration["passthroughBehavior"]
    if behavior not in PASSTHROUGH_BEHAVIORS:
        raise errors.bad_request(
            f"Invalid passthrough behavior specified: {behavior}. Valid values are: {', '.join(PASSTHROUGH_BEHAVIORS)}"
        )
    connection = integration.get("connectionType", "INTERNET")
    if connection not in CONNECTION_TYPES:
        raise errors.bad_request(f"Invalid connection type specified: {connection}")
    if connection == "VPC_LINK" and not integration.get("connectionId"):
        raise errors.bad_request("ConnectionId is required when connectionType is VPC_LINK")
    handling = integration.get("contentHandling")
    if handling is not None and handling not in CONTENT_HANDLINGS:
        raise errors.bad_request(f"Invalid content handling specified: {handling}")


async def put_integration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    kind = p["type"]
    if kind not in INTEGRATION_TYPES:
        raise errors.bad_request(
            f"1 validation error detected: Value '{kind}' at 'putIntegrationInput.type' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(INTEGRATION_TYPES)}]"
        )
    integration: Doc = {"type": kind}
    if p.get("integrationHttpMethod"):
        integration["httpMethod"] = p["integrationHttpMethod"]
    for key in ("uri", "credentials", "requestParameters", "requestTemplates", "contentHandling", "tlsConfig"):
        if p.get(key) is not None:
            integration[key] = p[key]
    if kind != "MOCK" or p.get("connectionType"):
        integration["connectionType"] = p.get("connectionType") or "INTERNET"
    if p.get("connectionId"):
        integration["connectionId"] = p["connectionId"]
    integration["passthroughBehavior"] = p.get("passthroughBehavior") or "WHEN_NO_MATCH"
    timeout = p.get("timeoutInMillis")
    integration["timeoutInMillis"] = MAX_TIMEOUT_MS if timeout is None else timeout
    integration["cacheNamespace"] = p.get("cacheNamespace") or p["resourceId"]
    integration["cacheKeyParameters"] = list(p.get("cacheKeyParameters") or [])
    check_integration(integration)

    def change(current: Doc) -> Doc:
        return {**current, "methodIntegration": integration}

    await _change_method(ctx, p, change)
    return integration


async def get_integration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _read(ctx, p, _integration)


async def update_integration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def change(current: Doc) -> Doc:
        changed = patch.apply(_integration(current), p.get("patchOperations"), INTEGRATION_PATCHABLE)
        changed.setdefault("passthroughBehavior", "WHEN_NO_MATCH")
        changed.setdefault("timeoutInMillis", MAX_TIMEOUT_MS)
        changed.setdefault("cacheNamespace", p["resourceId"])
        changed.setdefault("cacheKeyParameters", [])
        check_integration(changed)
        return {**current, "methodIntegration": changed}

    method: Doc = await _change_method(ctx, p, change)
    out: Doc = method["methodIntegration"]
    return out


async def delete_integration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def change(current: Doc) -> Doc:
        _integration(current)
        return {k: v for k, v in current.items() if k != "methodIntegration"}

    await _change_method(ctx, p, change)
    return {}


# Integration responses


def _integration_response(p: dict[str, Any], method: Doc) -> Doc:
    found = (_integration(method).get("integrationResponses") or {}).get(p["statusCode"])
    if found is None:
        raise _response_not_found()
    return dict(found)


def _with_integration_response(method: Doc, status: str, response: Doc | None) -> Doc:
    integration = _integration(method)
    responses = dict(integration.pop("integrationResponses", None) or {})
    if response is None:
        responses.pop(status, None)
    else:
        responses[status] = response
    if responses:
        integration["integrationResponses"] = responses
    return {**method, "methodIntegration": integration}


def _check_content_handling(response: Doc) -> None:
    handling = response.get("contentHandling")
    if handling is not None and handling not in CONTENT_HANDLINGS:
        raise errors.bad_request(f"Invalid content handling specified: {handling}")


async def put_integration_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    status = p["statusCode"]
    response: Doc = {"statusCode": status}
    for key in ("selectionPattern", "responseParameters", "responseTemplates", "contentHandling"):
        if p.get(key) is not None:
            response[key] = p[key]
    _check_content_handling(response)

    def change(current: Doc) -> Doc:
        _integration(current)
        if status not in (current.get("methodResponses") or {}):
            raise _response_not_found()
        return _with_integration_response(current, status, response)

    await _change_method(ctx, p, change)
    return response


async def get_integration_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _read(ctx, p, lambda m: _integration_response(p, m))


async def update_integration_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    def update(response: Doc) -> Doc:
        changed = patch.apply(response, p.get("patchOperations"), INTEGRATION_RESPONSE_PATCHABLE)
        _check_content_handling(changed)
        return changed

    return await _update_response(ctx, p, _integration_response, _with_integration_response, update)


async def delete_integration_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return await _delete_response(ctx, p, _integration_response, _with_integration_response)


HANDLERS: dict[str, Handler] = {
    "PutMethod": put_method,
    "GetMethod": get_method,
    "UpdateMethod": update_method,
    "DeleteMethod": delete_method,
    "PutMethodResponse": put_method_response,
    "GetMethodResponse": get_method_response,
    "UpdateMethodResponse": update_method_response,
    "DeleteMethodResponse": delete_method_response,
    "PutIntegration": put_integration,
    "GetIntegration": get_integration,
    "UpdateIntegration": update_integration,
    "DeleteIntegration": delete_integration,
    "PutIntegrationResponse": put_integration_response,
    "GetIntegrationResponse": get_integration_response,
    "UpdateIntegrationResponse": update_integration_response,
    "DeleteIntegrationResponse": delete_integration_response,
}
