"""A deployed stage of a REST API written as an OpenAPI 3.0 (`oas30`) or Swagger 2.0 (`swagger`) definition, as
GetExport answers it: the stage's deployment snapshot gives the paths, methods, parameters, request bodies and
responses; the API's current models, authorizers, request validators and gateway responses give the rest. The
x-amazon-apigateway-* extensions are written only when asked (`integrations`, `authorizers`, `apigateway` for
all of them), so a definition exported with `apigateway` imports back into the same API."""

from __future__ import annotations

import json
import re
from typing import Any

from broker.services.apigateway.store import Doc

ANY_METHOD = "x-amazon-apigateway-any-method"
MODEL_URL = re.compile(r"^https://apigateway\.amazonaws\.com/restapis/[^/]+/models/([a-zA-Z0-9]+)$")
PLACES = {"path": "path", "querystring": "query", "header": "header"}
API_KEY = {"type": "apiKey", "name": "x-api-key", "in": "header"}
SIGV4 = {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}
DEFAULT_TIMEOUT_MS = 29_000


class Export:
    """One export: which kind, which extensions, and the API's objects it reads."""

    def __init__(
        self,
        kind: str,
        extensions: set[str],
        api: Doc,
        models: list[Doc],
        authorizers: list[Doc],
        validators: list[Doc],
        gateway_responses: list[Doc],
    ) -> None:
        self.v2 = kind == "swagger"
        self.integrations = bool(extensions & {"integrations", "apigateway"})
        self.authorizer_extensions = bool(extensions & {"authorizers", "apigateway"})
        self.apigateway = "apigateway" in extensions
        self.api = api
        self.models = models
        self.authorizers = {a["id"]: a for a in authorizers}
        self.validators = {v["id"]: v for v in validators}
        self.gateway_responses = gateway_responses
        self.prefix = "#/definitions/" if self.v2 else "#/components/schemas/"
        self.uses_api_key = False
        self.uses_sigv4 = False

    def ref(self, model: str) -> Doc:
        return {"$ref": self.prefix + model}

    # -- schemas

    def schema(self, model: Doc) -> Any:
        try:
            parsed = json.loads(model.get("schema") or "{}")
        except (ValueError, RecursionError):
            parsed = {}
        if isinstance(parsed, dict):
            parsed.pop("$schema", None)
        return self.local_refs(parsed)

    def local_refs(self, node: Any) -> Any:
        """Model URLs in a schema turned back into references within the document."""
        if isinstance(node, list):
            return [self.local_refs(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for k, v in node.items():
            match = MODEL_URL.match(v) if k == "$ref" and isinstance(v, str) else None
            out[k] = self.prefix + match.group(1) if match else self.local_refs(v)
        return out

    # -- methods

    def parameters(self, path: str, method: Doc) -> list[Doc]:
        out: list[Doc] = []
        seen: set[tuple[str, str]] = set()
        declared = list((method.get("requestParameters") or {}).items())
        # every {variable} of the path is a parameter, declared or not
        declared += [(f"method.request.path.{v}", True) for v in re.findall(r"\{([^}+]+)\+?\}", path)]
        for key, required in declared:
            parts = str(key).split(".", 3)
            if len(parts) != 4 or parts[2] not in PLACES or (parts[2], parts[3]) in seen:
                continue
            seen.add((parts[2], parts[3]))
            place = PLACES[parts[2]]
            entry: Doc = {"name": parts[3], "in": place}
            if self.v2:
                entry["required"] = bool(required) or place == "path"
                entry["type"] = "string"
            else:
                if required or place == "path":
                    entry["required"] = True
                entry["schema"] = {"type": "string"}
            out.append(entry)
        return out

    def responses(self, method: Doc) -> Doc:
        out: Doc = {}
        for status, response in sorted((method.get("methodResponses") or {}).items()):
            entry: Doc = {"description": f"{status} response"}
            models = response.get("responseModels") or {}
            if self.v2 and models:
                entry["schema"] = self.ref(next(iter(models.values())))
            headers = [
                k.split(".", 3)[3]
                for k in (response.get("responseParameters") or {})
                if k.startswith("method.response.header.")
            ]
            if headers:
                entry["headers"] = {
                    h: {"type": "string"} if self.v2 else {"schema": {"type": "string"}} for h in headers
                }
            if not self.v2:
                entry["content"] = {media: {"schema": self.ref(m)} for media, m in models.items()}
            out[status] = entry
        return out

    def security(self, method: Doc) -> list[Doc]:
        out: list[Doc] = []
        kind = method.get("authorizationType")
        authorizer = self.authorizers.get(method.get("authorizerId") or "")
        if kind in ("CUSTOM", "COGNITO_USER_POOLS") and authorizer is not None:
            out.append({authorizer["name"]: list(method.get("authorizationScopes") or [])})
        elif kind == "AWS_IAM":
            self.uses_sigv4 = True
            out.append({"sigv4": []})
        if method.get("apiKeyRequired"):
            self.uses_api_key = True
            out.append({"api_key": []})
        return out

    def integration(self, integration: Doc) -> Doc:
        out: Doc = {"type": str(integration.get("type", "")).lower()}
        for key in ("httpMethod", "uri", "credentials", "connectionType", "connectionId"):
            if integration.get(key) and not (key == "connectionType" and integration[key] == "INTERNET"):
                out[key] = integration[key]
        responses: Doc = {}
        for status, response in sorted((integration.get("integrationResponses") or {}).items()):
            entry: Doc = {"statusCode": status}
            for key in ("responseParameters", "responseTemplates", "contentHandling"):
                if response.get(key):
                    entry[key] = response[key]
            responses[response.get("selectionPattern") or "default"] = entry
        if responses:
            out["responses"] = responses
        for key in ("requestParameters", "requestTemplates"):
            if integration.get(key):
                out[key] = integration[key]
        out["passthroughBehavior"] = str(integration.get("passthroughBehavior") or "WHEN_NO_MATCH").lower()
        for key in ("contentHandling", "cacheNamespace", "tlsConfig"):
            if integration.get(key):
                out[key] = integration[key]
        if integration.get("cacheKeyParameters"):
            out["cacheKeyParameters"] = list(integration["cacheKeyParameters"])
        if integration.get("timeoutInMillis", DEFAULT_TIMEOUT_MS) != DEFAULT_TIMEOUT_MS:
            out["timeoutInMillis"] = integration["timeoutInMillis"]
        return out

    def operation(self, path: str, method: Doc) -> Doc:
        op: Doc = {}
        if method.get("operationName"):
            op["operationId"] = method["operationName"]
        request_models = method.get("requestModels") or {}
        if self.v2:
            if request_models:
                op["consumes"] = list(request_models)
            produces = sorted(
                {m for r in (method.get("methodResponses") or {}).values() for m in (r.get("responseModels") or {})}
            )
            if produces:
                op["produces"] = produces
        parameters = self.parameters(path, method)
        if self.v2 and request_models:
            model = next(iter(request_models.values()))
            parameters.append({"in": "body", "name": model, "required": True, "schema": self.ref(model)})
        if parameters:
            op["parameters"] = parameters
        if not self.v2 and request_models:
            op["requestBody"] = {
                "content": {media: {"schema": self.ref(m)} for media, m in request_models.items()},
                "required": True,
            }
        op["responses"] = self.responses(method)
        security = self.security(method)
        if security:
            op["security"] = security
        validator = self.validators.get(method.get("requestValidatorId") or "")
        if self.apigateway and validator is not None:
            op["x-amazon-apigateway-request-validator"] = validator.get("name") or validator["id"]
        if self.integrations and method.get("methodIntegration"):
            op["x-amazon-apigateway-integration"] = self.integration(method["methodIntegration"])
        return op

    def paths(self, resources: list[Doc]) -> Doc:
        out: Doc = {}
        for resource in sorted(resources, key=lambda r: str(r.get("path"))):
            methods = resource.get("resourceMethods") or {}
            if not methods:
                continue
            item: Doc = {}
            for verb in sorted(methods, key=lambda v: (v == "ANY", v)):
                key = ANY_METHOD if verb == "ANY" else verb.lower()
                item[key] = self.operation(resource["path"], methods[verb])
            out[resource["path"]] = item
        return out

    # -- security schemes

    def scheme(self, authorizer: Doc) -> Doc:
        kind = authorizer.get("type")
        source = str(authorizer.get("identitySource") or "")
        header = source[len("method.request.header.") :] if source.startswith("method.request.header.") else ""
        name = "Unused" if kind == "REQUEST" else header or "Authorization"
        scheme: Doc = {"type": "apiKey", "name": name, "in": "header"}
        default_auth_type = "cognito_user_pools" if kind == "COGNITO_USER_POOLS" else "custom"
        scheme["x-amazon-apigateway-authtype"] = authorizer.get("authType") or default_auth_type
        if self.authorizer_extensions:
            ext: Doc = {"type": str(kind).lower()}
            for key in ("authorizerUri", "authorizerCredentials", "providerARNs", "identityValidationExpression"):
                if authorizer.get(key):
                    ext[key] = authorizer[key]
            if kind != "TOKEN" and source:
                ext["identitySource"] = source
            if kind != "COGNITO_USER_POOLS":
                ext["authorizerResultTtlInSeconds"] = authorizer.get("authorizerResultTtlInSeconds", 300)
            scheme["x-amazon-apigateway-authorizer"] = ext
        return scheme

    def schemes(self) -> Doc:
        out: Doc = {}
        if self.uses_api_key:
            out["api_key"] = dict(API_KEY)
        if self.uses_sigv4:
            out["sigv4"] = dict(SIGV4)
        for authorizer in sorted(self.authorizers.values(), key=lambda a: str(a["name"])):
            out[authorizer["name"]] = self.scheme(authorizer)
        return out

    # -- the API's extensions

    def api_extensions(self) -> Doc:
        api, out = self.api, {}  # type: Doc, Doc
        if not self.apigateway:
            return out
        if self.gateway_responses:
            out["x-amazon-apigateway-gateway-responses"] = {
                r["responseType"]: {
                    k: r[k] for k in ("statusCode", "responseParameters", "responseTemplates") if r.get(k) is not None
                }
                for r in sorted(self.gateway_responses, key=lambda r: str(r["responseType"]))
            }
        if self.validators:
            out["x-amazon-apigateway-request-validators"] = {
                v.get("name") or v["id"]: {
                    "validateRequestBody": bool(v.get("validateRequestBody")),
                    "validateRequestParameters": bool(v.get("validateRequestParameters")),
                }
                for v in sorted(self.validators.values(), key=lambda v: str(v.get("name") or v["id"]))
            }
        if api.get("binaryMediaTypes"):
            out["x-amazon-apigateway-binary-media-types"] = list(api["binaryMediaTypes"])
        if api.get("apiKeySource") and api["apiKeySource"] != "HEADER":
            out["x-amazon-apigateway-api-key-source"] = api["apiKeySource"]
        if api.get("minimumCompressionSize") is not None:
            out["x-amazon-apigateway-minimum-compression-size"] = api["minimumCompressionSize"]
        if api.get("policy"):
            try:
                out["x-amazon-apigateway-policy"] = json.loads(api["policy"])
            except (ValueError, RecursionError):
                out["x-amazon-apigateway-policy"] = api["policy"]
        if api.get("disableExecuteApiEndpoint"):
            out["x-amazon-apigateway-endpoint-configuration"] = {"disableExecuteApiEndpoint": True}
        return out


def build(export: Export, resources: list[Doc], stage_name: str, region: str, version: str) -> dict[str, Any]:
    """The definition of the API as the stage serves it."""
    api = export.api
    info: Doc = {"title": api.get("name", "")}
    if api.get("description"):
        info["description"] = api["description"]
    info["version"] = api.get("version") or version
    host = f"{api['id']}.execute-api.{region}.amazonaws.com"
    paths = export.paths(resources)
    schemas = {m["name"]: export.schema(m) for m in sorted(export.models, key=lambda m: str(m["name"]))}
    schemes = export.schemes()
    doc: Doc
    if export.v2:
        doc = {"swagger": "2.0", "info": info, "host": host, "basePath": f"/{stage_name}", "schemes": ["https"]}
        doc["paths"] = paths
        if schemes:
            doc["securityDefinitions"] = schemes
        if schemas:
            doc["definitions"] = schemas
    else:
        server = {"url": f"https://{host}/{{basePath}}", "variables": {"basePath": {"default": f"/{stage_name}"}}}
        doc = {"openapi": "3.0.1", "info": info, "servers": [server], "paths": paths}
        components: Doc = {}
        if schemas:
            components["schemas"] = schemas
        if schemes:
            components["securitySchemes"] = schemes
        if components:
            doc["components"] = components
    doc.update(export.api_extensions())
    return doc
