"""Invoking deployed HTTP APIs (the apigatewayv2 data plane), called by the execute-api front door of
apigateway/execute.py once the API id names an HTTP API. The stage is the first path segment when it names one,
else `$default` (no such stage: 404); the stage serves the snapshot of its deployment. Then, in AWS's order: CORS
preflight answered by the gateway, the route (routing.py), the route's authorization (JWT, REQUEST Lambda
authorizer, AWS_IAM's signature: with auth = "sigv4" verified, and from the API's own account only, as HTTP APIs
have no resource policies), the integration (AWS_PROXY to Lambda with payload format 2.0 or 1.0,
HTTP_PROXY), the response parameter mappings of its status code, and the API's CORS headers."""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx

from broker import clock
from broker.auth import sigv4
from broker.auth.errors import AuthFailure
from broker.context import RequestContext
from broker.services.apigateway import access_log, store
from broker.services.apigatewayv2 import cors, http_proxy, lambdas, payloads, routing
from broker.services.apigatewayv2 import store as v2store
from broker.services.apigatewayv2.authorizers import RESET_PREFIX, Denied, LambdaAuthorizers
from broker.services.apigatewayv2.incoming import Incoming
from broker.services.apigatewayv2.jwt_auth import JwtAuthorizers, Refused
from broker.services.apigatewayv2.mapping import map_response
from broker.services.base import Env
from broker.services.data_plane import forwarded_headers, header

Doc = dict[str, Any]
Response = tuple[int, list[tuple[bytes, bytes]], bytes]
Scope = Any

DEFAULT_STAGE = "$default"
_DEPLOYMENTS_CACHED = 256
_HOST = re.compile(r"^([a-z0-9]+)\.execute-api\.", re.IGNORECASE)


def _not_found() -> Response:
    return payloads.message(404, "Not Found")


class DeploymentCache:
    """Deployment documents (with their snapshots) of one store kind, read once per worker process: a deployment
    never changes once made (a new one is a new id). The first `size` read stay, the oldest leave first. REST
    APIs' data plane keeps one too."""

    def __init__(self, env: Env, kind: str, size: int = _DEPLOYMENTS_CACHED) -> None:
        self.env, self.kind, self.size = env, kind, size
        self._found: OrderedDict[tuple[str, str, str, str], Doc] = OrderedDict()

    async def get(self, account: str, region: str, api_id: str, deployment_id: str) -> Doc | None:
        key = (account, region, api_id, deployment_id)
        found = self._found.get(key)
        if found is None:
            found = await self.env.db.read(store.get, account, region, self.kind, api_id, deployment_id)
            if found is None:
                return None
            self._found[key] = found
            while len(self._found) > self.size:
                self._found.popitem(last=False)
        return found


class HttpApis:
    """The data plane of HTTP APIs (one per worker process)."""

    def __init__(self, env: Env, http_client: Callable[[], httpx.AsyncClient]) -> None:
        self.env = env
        self._http = http_client
        self.jwt = JwtAuthorizers(http_client, env.settings)
        self.lambda_authorizers = LambdaAuthorizers()
        env.notifier.subscribe(RESET_PREFIX, self.lambda_authorizers.on_reset)
        self._deployments = DeploymentCache(env, v2store.DEPLOYMENT)
        self._homes: dict[str, tuple[str, str, Doc]] = {}

    async def lookup(self, api_id: str) -> tuple[str, str, Doc] | None:
        """(account, region, API) of an HTTP or WebSocket API id, whatever the account and region."""
        found: tuple[str, str, Doc] | None = await self.env.db.read(v2store.find_http_api, api_id)
        if found is not None:
            if len(self._homes) > _DEPLOYMENTS_CACHED:
                self._homes.clear()
            self._homes[api_id] = found
        return found

    def known(self, api_id: str) -> tuple[str, str, Doc] | None:
        """What lookup() found for this id before in this process. Ids are never reused and what is used of the
        API then (its id and protocol type) never changes; a deleted API has no stage left (404)."""
        return self._homes.get(api_id)

    async def serve(
        self, scope: Scope, body: bytes, request_id: str, account: str, region: str, api: Doc, path: str
    ) -> Response:
        status, headers, content = await self._serve(scope, body, request_id, account, region, api, path)
        headers.append((b"apigw-requestid", request_id.encode()))
        return status, headers, content

    async def _stage(self, account: str, region: str, api_id: str, path: str) -> tuple[Doc, str] | None:
        """(stage, path inside it): the first segment when it names a stage, else `$default` with the whole path."""
        first, _, rest = path.lstrip("/").partition("/")
        db = self.env.db
        if first and first != DEFAULT_STAGE:
            stage = await db.read(store.get, account, region, v2store.STAGE, api_id, first)
            if stage is not None:
                return stage, "/" + rest
        stage = await db.read(store.get, account, region, v2store.STAGE, api_id, DEFAULT_STAGE)
        return (stage, path) if stage is not None else None

    def _incoming(
        self, scope: Scope, body: bytes, request_id: str, account: str, region: str, api_id: str, raw_path: str
    ) -> Incoming:
        host = header(scope, b"host")
        domain = host.partition(":")[0] if _HOST.match(host) else f"{api_id}.execute-api.{region}.amazonaws.com"
        raw_query = scope.get("query_string", b"").decode("latin-1")
        client = scope.get("client") or ("127.0.0.1", 0)
        now = clock.now_ms()
        headers = [(k.lower(), v) for k, v in forwarded_headers(scope)]
        return Incoming(
            method=str(scope["method"]).upper(),
            raw_path=raw_path,
            path=raw_path,
            raw_query=raw_query,
            query=parse_qsl(raw_query, keep_blank_values=True),
            headers=headers,
            body=body,
            source_ip=str(client[0]),
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            request_id=request_id,
            account=account,
            region=region,
            api_id=api_id,
            domain_name=domain,
            domain_prefix=domain.partition(".")[0],
            stage=DEFAULT_STAGE,
            stage_variables={},
            time_ms=now,
        )

    async def _serve(
        self, scope: Scope, body: bytes, request_id: str, account: str, region: str, api: Doc, path: str
    ) -> Response:
        api_id = str(api.get("ApiId", ""))
        if api.get("ProtocolType") == "WEBSOCKET":
            return payloads.message(501, "WebSocket APIs are not supported by this broker")
        found = await self._stage(account, region, api_id, path)
        if found is None:
            return _not_found()
        stage, inner = found
        deployment_id = stage.get("DeploymentId")
        deployment = await self._deployments.get(account, region, api_id, str(deployment_id)) if deployment_id else None
        snapshot = (deployment or {}).get(v2store.SNAPSHOT)
        if not isinstance(snapshot, dict):
            return _not_found()  # a stage with nothing deployed
        deployed_api = snapshot.get("Api") or api
        if deployed_api.get("DisableExecuteApiEndpoint"):
            return payloads.message(403, "Forbidden")
        cors_config = deployed_api.get("CorsConfiguration") or None
        request = self._incoming(scope, body, request_id, account, region, api_id, path)
        request.path = inner
        request.stage = str(stage.get("StageName") or DEFAULT_STAGE)
        request.stage_variables = dict(stage.get("StageVariables") or {})
        lowered = {k: v for k, v in request.headers}
        if cors.is_preflight(cors_config, request.method, lowered):
            status, headers, content = cors.preflight(cors_config or {}, lowered)
        else:
            status, headers, content = await self._route(scope, snapshot, request)
            headers = cors.decorate(cors_config, request.header("origin") or "", headers)
        self._log(stage, request, status, len(content))
        return status, headers, content

    def _log(self, stage: Doc, request: Incoming, status: int, length: int) -> None:
        """The stage's access log line (AccessLogSettings: DestinationArn, Format), queued for its log group."""
        settings = stage.get("AccessLogSettings") or {}
        template, arn = settings.get("Format"), settings.get("DestinationArn")
        if not template or not arn:
            return
        values = {
            **request.context(),
            "status": status,
            "responseLength": length,
            "responseLatency": max(0, clock.now_ms() - request.time_ms),
        }
        access_log.enqueue(self.env, str(arn), str(template), values, request.api_id, request.stage)

    async def _route(self, scope: Scope, snapshot: Doc, request: Incoming) -> Response:
        matched = routing.match(list(snapshot.get("Routes") or []), request.method, request.path)
        if matched is None:
            return _not_found()
        route = matched.route
        request.route_key, request.route_id = matched.key, str(route.get("RouteId", ""))
        request.path_parameters = matched.path_parameters
        ctx = RequestContext(
            env=self.env, account=request.account, region=request.region, host=request.header("host") or "",
            trace_header=request.header("x-amzn-trace-id") or "",
        )  # fmt: skip
        refused = await self._authorize(ctx, scope, snapshot, route, request)
        if refused is not None:
            return refused
        target = str(route.get("Target") or "")
        integration_id = target.removeprefix("integrations/")
        integration = next(
            (i for i in snapshot.get("Integrations") or [] if i.get("IntegrationId") == integration_id), None
        )
        if not target.startswith("integrations/") or integration is None:
            return _not_found()
        kind = integration.get("IntegrationType")
        if kind == "AWS_PROXY" and not integration.get("IntegrationSubtype"):
            response = await self._lambda(ctx, scope, integration, request)
        elif kind == "HTTP_PROXY" and integration.get("ConnectionType", "INTERNET") == "INTERNET":
            response = await http_proxy.forward(self._http(), self.env.settings, integration, request)
        else:
            return payloads.internal_error()  # AWS service integrations and VPC links are not served
        return map_response(integration, request, response)

    async def _authorize(
        self, ctx: RequestContext, scope: Scope, snapshot: Doc, route: Doc, request: Incoming
    ) -> Response | None:
        """None when the route lets the request through (request.authorizer filled in), else the refusal."""
        kind = route.get("AuthorizationType") or "NONE"
        if kind == "NONE":
            return None
        if kind == "AWS_IAM":
            # A SigV4 Authorization header is required; with auth = "none" its signature is not verified.
            if not (request.header("authorization") or "").startswith("AWS4-HMAC-SHA256 "):
                return payloads.message(403, "Forbidden")
            if not self.env.settings.sigv4:
                return None
            try:
                key, _ = await sigv4.authenticate(self.env, sigv4.request_of(scope, request.body))
            except AuthFailure:
                return payloads.message(403, "Forbidden")
            # No resource policy can grant another account: its callers assume a role of the API's account.
            return None if key.identity.account == request.account else payloads.message(403, "Forbidden")
        authorizer = next(
            (a for a in snapshot.get("Authorizers") or [] if a.get("AuthorizerId") == route.get("AuthorizerId")), None
        )
        if authorizer is None:
            return payloads.internal_error()
        if kind == "JWT":
            try:
                request.authorizer = await self.jwt.authorize(authorizer, route, request)
            except Refused as e:
                status, headers, content = payloads.message(
                    e.status, "Unauthorized" if e.status == 401 else "Forbidden"
                )
                if e.www_authenticate:
                    headers.append((b"www-authenticate", e.www_authenticate.encode("latin-1", "replace")))
                return status, headers, content
            return None
        if kind == "CUSTOM":
            try:
                request.authorizer = await self.lambda_authorizers.authorize(ctx, scope, authorizer, request)
            except Denied as e:
                return payloads.message(
                    e.status, {401: "Unauthorized", 403: "Forbidden"}.get(e.status, "Internal Server Error")
                )
            return None
        return payloads.internal_error()

    async def _lambda(self, ctx: RequestContext, scope: Scope, integration: Doc, request: Incoming) -> Response:
        v1 = str(integration.get("PayloadFormatVersion") or "2.0") == "1.0"
        event = payloads.event_v1(self.env, scope, request) if v1 else payloads.event_v2(request)
        # Past the integration's timeout API Gateway answers 503 while the function runs on to its own end.
        uri = http_proxy.stage_variables(str(integration.get("IntegrationUri") or ""), request)  # e.g. an alias
        task = asyncio.ensure_future(lambdas.call(ctx, uri, event))
        done, _ = await asyncio.wait({task}, timeout=http_proxy.timeout_s(integration))
        if not done:
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            return payloads.message(503, "Service Unavailable")
        try:
            payload = task.result()
        except lambdas.InvokeFailed as e:
            if e.status == 429:
                return payloads.message(429, "Too Many Requests")
            if e.status == 413:
                return payloads.message(413, "Request Entity Too Large")
            return payloads.internal_error()
        try:
            return payloads.response_v1(payload) if v1 else payloads.response_v2(payload)
        except payloads.Malformed:
            return payloads.internal_error()
