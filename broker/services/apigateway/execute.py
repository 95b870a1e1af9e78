"""The execute-api front door on the broker's port: any Host `<api-id>.execute-api.<anything>` (`/<stage>/<path>`),
and the path forms `/_aws/execute-api/<api-id>/<stage>/<path>` and `/restapis/<api-id>/<stage>/_user_request_/<path>`.
HTTP APIs (apigatewayv2) are served by their own data plane (apigatewayv2/execute.py). A REST API's stage serves the
snapshot of the deployment it points to, through the steps a request takes in API Gateway: resource and method
matching, authorization (authorize.py), the API key (api_keys.py), throttling and quotas (usage.py), request
validation (validation.py), then the integration — MOCK (mock.py), AWS_PROXY (lambda_proxy.py), HTTP/HTTP_PROXY
(http_integration.py), AWS (aws_integration.py). A step that refuses the request raises a GatewayError, answered
with the API's deployed gateway responses (gateway_errors.py); the access log line is written last (access_log.py)."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import quote, unquote

import httpx

from broker import clock, ids
from broker.services.apigateway import (
    access_log,
    api_keys,
    authorize,
    aws_integration,
    gateway_errors,
    http_integration,
    lambda_proxy,
    mock,
    routing,
    store,
    usage,
    validation,
)
from broker.services.apigateway.call import MAX_BODY, Call, Doc, Response, template_request
from broker.services.apigateway.gateway_errors import GatewayError
from broker.services.apigatewayv2.execute import DeploymentCache, HttpApis
from broker.services.base import Env
from broker.services.data_plane import SANDBOX, header, read_body

_HOST = re.compile(r"^([a-z0-9]+)\.execute-api\.", re.IGNORECASE)
AWS_PREFIX = "/_aws/execute-api/"
USER_REQUEST = "/_user_request_/"

Scope = Any
Receive = Any
Send = Any
_CACHED = 256


class ExecuteApi:
    """The execute-api data plane (one per worker process)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self._http: httpx.AsyncClient | None = None
        self.http_apis = HttpApis(env, self.client)
        # Per process: where a REST API id lives (ids are never reused, so a hit cannot go stale: a deleted API has
        # no stage left), and deployment snapshots (never changed once made).
        self._homes: dict[str, tuple[str, str, Doc]] = {}
        self._deployments = DeploymentCache(env, store.DEPLOYMENT, _CACHED)

    def claims(self, host: str, path: str) -> bool:
        return (
            ".execute-api." in host
            or path.startswith(AWS_PREFIX)
            or (path.startswith("/restapis/") and USER_REQUEST in path)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = ids.uuid4()
        body = await read_body(scope, receive, MAX_BODY)
        if body is None:
            status, headers, content = gateway_errors.too_large()
        else:
            status, headers, content = await self._serve(scope, body, request_id)
        headers.append((b"x-amzn-requestid", request_id.encode()))
        if _HOST.match(header(scope, b"host")) is None:
            headers.append(SANDBOX)
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def client(self) -> httpx.AsyncClient:
        """The outbound client of HTTP integrations (one per process, opened on first use)."""
        if self._http is None:
            # No proxies from the environment and no redirects followed: the backend's own answer is what counts.
            self._http = httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=None)
        return self._http

    def _target(self, scope: Scope) -> tuple[str, str] | None:
        """(api id, the path after it: `/<stage>/<path>`) of a request."""
        # The raw path: an encoded slash (%2F) stays inside its segment (a path parameter may hold one).
        raw = scope.get("raw_path")
        path: str = raw.decode("latin-1") if raw else quote(scope["path"])
        m = _HOST.match(header(scope, b"host"))
        if m is not None:
            return m.group(1).lower(), "/" + path.lstrip("/")
        if path.startswith(AWS_PREFIX):
            api_id, _, rest = path[len(AWS_PREFIX) :].partition("/")
            return api_id, "/" + rest
        head, _, rest = path[len("/restapis/") :].partition(USER_REQUEST)
        api_id, _, stage = head.partition("/")
        return (api_id, f"/{stage}/{rest}") if api_id and stage else None

    async def _serve(self, scope: Scope, body: bytes, request_id: str) -> Response:
        forbidden = GatewayError("DEFAULT_4XX", "Forbidden", status=403)
        target = self._target(scope)
        if target is None or not target[0].isalnum():
            return gateway_errors.answer(forbidden, [])
        api_id, rest = target
        found = self._homes.get(api_id)
        if found is None:
            http_api = self.http_apis.known(api_id)
            if http_api is None:
                found = await self.env.db.read(store.find_api, api_id)
                http_api = await self.http_apis.lookup(api_id) if found is None else None
            if http_api is not None:
                return await self.http_apis.serve(scope, body, request_id, *http_api, unquote(rest))
        if found is None:
            return gateway_errors.answer(forbidden, [])
        if len(self._homes) > _CACHED:
            self._homes.clear()
        self._homes[api_id] = found
        account, region, api = found
        stage_name, _, path = rest.lstrip("/").partition("/")
        stage = await self.env.db.read(store.get, account, region, store.STAGE, api_id, stage_name)
        deployment = await self._deployments.get(account, region, api_id, stage["deploymentId"]) if stage else None
        if stage is None or deployment is None:
            return gateway_errors.answer(forbidden, [])
        matched = routing.match(deployment.get("_resources") or [], scope["method"], "/" + path)
        path = unquote("/" + path)
        if matched is None:
            error = GatewayError("MISSING_AUTHENTICATION_TOKEN")
            request = gateway_errors.bare_request(scope, stage)
            return gateway_errors.answer(error, deployment.get("_gatewayResponses") or [], request)
        call = Call(
            env=self.env,
            scope=scope,
            body=body,
            request_id=request_id,
            account=account,
            region=region,
            api=deployment.get("_api") or api,
            stage=stage,
            deployment=deployment,
            matched=matched,
            path=path,
            started_ms=clock.now_ms(),
        )
        try:
            response = await self._run(call)
        except GatewayError as e:
            call.extras["error"] = e  # $context.error.* of the access log line
            event = lambda_proxy.proxy_event(call)
            response = gateway_errors.answer(e, call.deployed("_gatewayResponses"), template_request(event, body))
        await access_log.record(call, response[0], len(response[2]))
        return response

    async def _run(self, call: Call) -> Response:
        await authorize.authorize(call)
        await api_keys.check(call)
        await usage.admit(call)
        return await integrate(call, self.client())


async def integrate(call: Call, client: httpx.AsyncClient) -> Response:
    """What follows admission: request validation, then the method's integration (TestInvokeMethod starts here)."""
    validation.validate(call)
    integration = call.matched.method.get("methodIntegration")
    if integration is None:
        raise GatewayError("API_CONFIGURATION_ERROR")
    kind = integration.get("type")
    started = time.perf_counter()
    try:
        response = await _integration(call, kind, integration, client)
    finally:  # $context.integrationLatency of the access log
        call.extras["integrationLatency"] = int((time.perf_counter() - started) * 1000)
    if kind != "MOCK":  # Lambda's own status for a proxy (200), the backend's otherwise
        call.extras["integrationStatus"] = 200 if kind == "AWS_PROXY" else response[0]
    return response


async def _integration(call: Call, kind: Any, integration: Doc, client: httpx.AsyncClient) -> Response:
    if kind == "AWS_PROXY":
        return await lambda_proxy.lambda_proxy(call, integration)
    request = template_request(lambda_proxy.proxy_event(call), call.body)
    if kind == "MOCK":
        return mock.mock(integration, request)
    if kind in ("HTTP", "HTTP_PROXY"):
        return await http_integration.serve(call, integration, request, client)
    if kind == "AWS":
        return await aws_integration.serve(call, integration, request, client)
    raise GatewayError("API_CONFIGURATION_ERROR")
