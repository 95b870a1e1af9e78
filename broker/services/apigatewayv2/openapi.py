"""OpenAPI 3.0 documents of HTTP APIs, both ways (no SQL here): `export` renders an API's routes, integrations,
authorizers and CORS with API Gateway's extensions (x-amazon-apigateway-integration, -authorizer, -cors,
-any-method); `parse` reads such a document (OpenAPI 3.x, or Swagger 2.0's equivalents) into what ImportApi and
ReimportApi store, with the warnings AWS gives for what it ignores. YAML is read and written with PyYAML when it
is installed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from botocore.model import Shape

from broker.errors import ServiceError
from broker.protocol.spec import load_model
from broker.services.apigateway import openapi_import
from broker.services.apigatewayv2 import errors, lengths
from broker.services.apigatewayv2.store import Doc

METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
ANY_METHOD = "x-amazon-apigateway-any-method"
INTEGRATION = "x-amazon-apigateway-integration"
AUTHORIZER = "x-amazon-apigateway-authorizer"
CORS = "x-amazon-apigateway-cors"
MAX_BODY_DEPTH = 64
# OpenAPI extension member <-> Integration member
INTEGRATION_MEMBERS = (
    ("type", "IntegrationType"), ("uri", "IntegrationUri"), ("httpMethod", "IntegrationMethod"),
    ("payloadFormatVersion", "PayloadFormatVersion"), ("connectionType", "ConnectionType"),
    ("connectionId", "ConnectionId"), ("credentials", "CredentialsArn"), ("timeoutInMillis", "TimeoutInMillis"),
    ("integrationSubtype", "IntegrationSubtype"), ("requestParameters", "RequestParameters"),
    ("responseParameters", "ResponseParameters"), ("description", "Description"),
)  # fmt: skip
CORS_MEMBERS = (
    ("allowOrigins", "AllowOrigins"), ("allowCredentials", "AllowCredentials"), ("exposeHeaders", "ExposeHeaders"),
    ("maxAge", "MaxAge"), ("allowMethods", "AllowMethods"), ("allowHeaders", "AllowHeaders"),
)  # fmt: skip


def _conforms(shape: Shape, value: Any, depth: int = 0) -> bool:
    """Whether a value read from a document has the JSON type its model shape takes (YAML gives ints and floats
    where strings are meant: those are turned to text by the caller first)."""
    t = shape.type_name
    if depth > MAX_BODY_DEPTH:
        return False
    if t == "string":
        return isinstance(value, str)
    if t in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if t in ("float", "double"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "list":
        return isinstance(value, list) and all(_conforms(shape.member, v, depth + 1) for v in value)
    if t == "map":
        return isinstance(value, dict) and all(
            isinstance(k, str) and _conforms(shape.value, v, depth + 1) for k, v in value.items()
        )
    if t == "structure":
        return isinstance(value, dict) and all(
            k in shape.members and _conforms(shape.members[k], v, depth + 1) for k, v in value.items()
        )
    return True


def typed(operation: str, doc: Doc, what: str) -> Doc:
    """A document's members checked against the input shape of the operation that creates such an object."""
    shape = load_model("apigatewayv2").operation_model(operation).input_shape
    for member, value in doc.items():
        if member.startswith("_"):
            continue
        mshape = shape.members.get(member)
        if mshape is None or not _conforms(mshape, value):
            raise errors.bad_request(f"Invalid OpenAPI input: {what} has an invalid {member}")
    lengths.check(shape, {k: v for k, v in doc.items() if not k.startswith("_")}, "")
    return doc


# -- export -------------------------------------------------------------------------------------------------------


def _integration_extension(integration: Doc) -> Doc:
    out: Doc = {}
    for ext, member in INTEGRATION_MEMBERS:
        value = integration.get(member)
        if value is None:
            continue
        out[ext] = value.lower() if member == "IntegrationType" else value
    tls = integration.get("TlsConfig") or {}
    if tls.get("ServerNameToVerify"):
        out["tlsConfig"] = {"serverNameToVerify": tls["ServerNameToVerify"]}
    return out


def _security_scheme(authorizer: Doc, extensions: bool) -> Doc:
    if authorizer["AuthorizerType"] == "JWT":
        jwt = authorizer.get("JwtConfiguration") or {}
        scheme: Doc = {"type": "oauth2", "flows": {}}
        ext: Doc = {
            "identitySource": ",".join(authorizer.get("IdentitySource") or []),
            "jwtConfiguration": {"audience": list(jwt.get("Audience") or []), "issuer": jwt.get("Issuer")},
            "type": "jwt",
        }
    else:
        sources = authorizer.get("IdentitySource") or []
        header = next((s.split(".", 2)[2] for s in sources if s.startswith("$request.header.")), "Unused")
        scheme = {"type": "apiKey", "name": header, "in": "header"}
        ext = {"identitySource": ",".join(sources), "authorizerUri": authorizer.get("AuthorizerUri"), "type": "request"}
        for member, key in (
            ("AuthorizerPayloadFormatVersion", "authorizerPayloadFormatVersion"),
            ("AuthorizerResultTtlInSeconds", "authorizerResultTtlInSeconds"),
            ("EnableSimpleResponses", "enableSimpleResponses"),
            ("AuthorizerCredentialsArn", "authorizerCredentials"),
        ):
            if authorizer.get(member) is not None:
                ext[key] = authorizer[member]
    if extensions:
        scheme[AUTHORIZER] = ext
    return scheme


def export(api: Doc, routes: list[Doc], integrations: list[Doc], authorizers: list[Doc], extensions: bool) -> Doc:
    info: Doc = {"title": api["Name"]}
    if api.get("Description"):
        info["description"] = api["Description"]
    info["version"] = api.get("Version") or api["CreatedDate"].replace("T", " ").replace("Z", "UTC")
    by_id = {i["IntegrationId"]: i for i in integrations}
    names = {a["AuthorizerId"]: a["Name"] for a in authorizers}
    paths: dict[str, Doc] = {}
    for route in sorted(routes, key=lambda r: r["RouteKey"]):
        key = route["RouteKey"]
        if key == "$default":
            path, method = "$default", ANY_METHOD
        else:
            verb, _, path = key.partition(" ")
            method = ANY_METHOD if verb == "ANY" else verb.lower()
        operation: Doc = {}
        if route.get("OperationName"):
            operation["operationId"] = route["OperationName"]
        params = [
            {"name": name, "in": "path", "description": f"Generated path parameter for {name}", "required": True,
             "schema": {"type": "string"}}
            for name in re.findall(r"\{([^}]+)\}", path)
        ]  # fmt: skip
        if params:
            operation["parameters"] = params
        operation["responses"] = {"default": {"description": f"Default response for {key}"}}
        if route.get("AuthorizerId") in names:
            operation["security"] = [{names[route["AuthorizerId"]]: list(route.get("AuthorizationScopes") or [])}]
        elif route.get("AuthorizationType") == "AWS_IAM":
            operation["security"] = [{"sigv4": []}]
        target = route.get("Target") or ""
        integration = by_id.get(target.removeprefix("integrations/"))
        if extensions and integration is not None:
            operation[INTEGRATION] = _integration_extension(integration)
        paths.setdefault(path, {})[method] = operation
    doc: Doc = {"openapi": "3.0.1", "info": info, "paths": paths}
    schemes = {a["Name"]: _security_scheme(a, extensions) for a in authorizers}
    if any(r.get("AuthorizationType") == "AWS_IAM" for r in routes):
        schemes["sigv4"] = {"type": "apiKey", "name": "Authorization", "in": "header"}
        if extensions:
            schemes["sigv4"]["x-amazon-apigateway-authtype"] = "awsSigv4"
    if schemes:
        doc["components"] = {"securitySchemes": schemes}
    cors = api.get("CorsConfiguration")
    if extensions and cors:
        doc[CORS] = {ext: cors[member] for ext, member in CORS_MEMBERS if cors.get(member) is not None}
    if extensions:
        doc["x-amazon-apigateway-importexport-version"] = "1.0"
    return doc


def render(document: Doc, output_type: str) -> bytes:
    if output_type == "JSON":
        return json.dumps(document, indent=2).encode()
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True)).encode()


# -- import -------------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What an OpenAPI document makes: the API's members, its authorizers (by scheme name), its routes (each with
    its integration, or None) and the warnings for what was left out."""

    api: Doc
    authorizers: dict[str, Doc] = field(default_factory=dict)
    routes: list[tuple[Doc, Doc | None]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load(body: str) -> Doc:
    """The document of an import body, JSON or YAML — read as REST API imports read it (bounded in depth and in
    nodes, so YAML aliases that share or loop cannot blow it up)."""
    try:
        document = openapi_import.parse(body.encode("utf-8", "surrogatepass"))
    except ServiceError:
        raise errors.bad_request("Invalid OpenAPI input: the body is not an OpenAPI definition") from None
    if not str(document.get("openapi", "")).startswith("3.") and str(document.get("swagger", "")) != "2.0":
        raise errors.bad_request("Invalid OpenAPI input: only OpenAPI 3.x and Swagger 2.0 definitions are supported")
    return document


def _resolve(document: Doc, node: Any) -> Any:
    """A local $ref ("#/components/...") replaced by what it names (one level; None when it names nothing)."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = document
        for part in node["$ref"][2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        return target
    return node


def _authorizer(name: str, scheme: Any, warnings: list[str]) -> Doc | None:
    ext = scheme.get(AUTHORIZER) if isinstance(scheme, dict) else None
    if not isinstance(ext, dict):
        return None
    kind = str(ext.get("type", "")).lower()
    sources = ext.get("identitySource") or []
    if isinstance(sources, str):
        sources = [s.strip() for s in sources.split(",") if s.strip()]
    doc: Doc = {"Name": name, "IdentitySource": sources}
    if kind == "jwt":
        jwt = ext.get("jwtConfiguration") or {}
        if not isinstance(jwt, dict):
            jwt = {}
        doc["AuthorizerType"] = "JWT"
        audience = jwt.get("audience") or []
        doc["JwtConfiguration"] = {"Audience": [str(a) for a in audience] if isinstance(audience, list) else audience}
        if jwt.get("issuer") is not None:
            doc["JwtConfiguration"]["Issuer"] = jwt["issuer"]
        return doc
    if kind == "request":
        doc["AuthorizerType"] = "REQUEST"
        doc["AuthorizerUri"] = ext.get("authorizerUri")
        for key, member in (
            ("authorizerPayloadFormatVersion", "AuthorizerPayloadFormatVersion"),
            ("authorizerResultTtlInSeconds", "AuthorizerResultTtlInSeconds"),
            ("enableSimpleResponses", "EnableSimpleResponses"),
            ("authorizerCredentials", "AuthorizerCredentialsArn"),
        ):
            if ext.get(key) is not None:
                value = ext[key]
                if member == "AuthorizerPayloadFormatVersion" and isinstance(value, int | float):
                    value = str(value)
                doc[member] = value
        return doc
    warnings.append(f"Unsupported authorizer type {ext.get('type')} for security scheme {name}. Ignoring.")
    return None


def _integration(ext: Any) -> Doc:
    if not isinstance(ext, dict):
        raise errors.bad_request("Invalid OpenAPI input: x-amazon-apigateway-integration must be an object")
    doc: Doc = {}
    for key, member in INTEGRATION_MEMBERS:
        if ext.get(key) is not None:
            value = ext[key]
            if member in ("IntegrationType", "PayloadFormatVersion") and isinstance(value, str | int | float):
                value = str(value).upper() if member == "IntegrationType" else str(value)
            doc[member] = value
    if isinstance(ext.get("tlsConfig"), dict) and ext["tlsConfig"].get("serverNameToVerify"):
        doc["TlsConfig"] = {"ServerNameToVerify": ext["tlsConfig"]["serverNameToVerify"]}
    if "TimeoutInMillis" in doc:
        try:
            doc["TimeoutInMillis"] = int(doc["TimeoutInMillis"])
        except (TypeError, ValueError):
            raise errors.bad_request("Invalid OpenAPI input: timeoutInMillis must be an integer") from None
    return doc


def _base_path(document: Doc, mode: str | None) -> str:
    if mode not in ("prepend", "split"):
        return ""
    if document.get("basePath"):
        base = str(document["basePath"])
    else:
        servers = document.get("servers")
        first = servers[0] if isinstance(servers, list) and servers else None
        url = str(first.get("url", "")) if isinstance(first, dict) else ""
        base = re.sub(r"^[a-z]+://[^/]*", "", url)
    base = "/" + base.strip("/") if base.strip("/") else ""
    if mode == "split":
        parts = base.strip("/").split("/")
        base = "/" + "/".join(parts[1:]) if len(parts) > 1 else ""
    return base


def parse(document: Doc, basepath: str | None) -> Plan:
    info: Doc = document["info"] if isinstance(document.get("info"), dict) else {}
    title = info.get("title")
    if not isinstance(title, str) or not title:
        raise errors.bad_request("Invalid OpenAPI input: info.title is required")
    api: Doc = {"Name": title[:128]}
    if isinstance(info.get("description"), str):
        api["Description"] = info["description"][:1024]
    if info.get("version") is not None:
        api["Version"] = str(info["version"])[:64]
    plan = Plan(api)
    cors = document.get(CORS)
    if isinstance(cors, dict):
        api["CorsConfiguration"] = {member: cors[ext] for ext, member in CORS_MEMBERS if cors.get(ext) is not None}
    typed("CreateApi", api, "the API")
    components: Doc = document["components"] if isinstance(document.get("components"), dict) else {}
    schemes = components.get("securitySchemes") or document.get("securityDefinitions") or {}
    iam_schemes = set()
    for name, scheme in schemes.items() if isinstance(schemes, dict) else []:
        if isinstance(scheme, dict) and str(scheme.get("x-amazon-apigateway-authtype", "")).lower() == "awssigv4":
            iam_schemes.add(name)
            continue
        authorizer = _authorizer(str(name), scheme, plan.warnings)
        if authorizer is not None:
            plan.authorizers[str(name)] = typed("CreateAuthorizer", authorizer, f"security scheme {name}")
    top_security = document.get("security")
    base = _base_path(document, basepath)
    paths = document.get("paths") or {}
    if not isinstance(paths, dict):
        raise errors.bad_request("Invalid OpenAPI input: paths must be an object")
    for path, item in paths.items():
        item = _resolve(document, item)
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method == ANY_METHOD:
                verb = "ANY"
            elif method in METHODS:
                verb = method.upper()
            else:
                continue
            operation = _resolve(document, operation)
            if not isinstance(operation, dict):
                continue
            key = "$default" if path == "$default" else f"{verb} {base}{path}"
            route: Doc = {"RouteKey": key}
            if isinstance(operation.get("operationId"), str):
                route["OperationName"] = operation["operationId"][:64]
            security = operation.get("security", top_security)
            _route_security(route, security, plan, iam_schemes)
            ext = _resolve(document, operation.get(INTEGRATION))
            integration = typed("CreateIntegration", _integration(ext), key) if ext is not None else None
            plan.routes.append((typed("CreateRoute", route, key), integration))
    return plan


def _route_security(route: Doc, security: Any, plan: Plan, iam_schemes: set[str]) -> None:
    route["AuthorizationType"] = "NONE"
    if not isinstance(security, list) or not security:
        return
    requirement = security[0]
    if not isinstance(requirement, dict) or not requirement:
        return
    name, scopes = next(iter(requirement.items()))
    if name in iam_schemes:
        route["AuthorizationType"] = "AWS_IAM"
    elif name in plan.authorizers:
        kind = plan.authorizers[name]["AuthorizerType"]
        route["AuthorizationType"] = "JWT" if kind == "JWT" else "CUSTOM"
        route["_Authorizer"] = name
        if kind == "JWT" and isinstance(scopes, list) and scopes:
            route["AuthorizationScopes"] = [str(s) for s in scopes]
    else:
        plan.warnings.append(f"Unable to find security scheme {name} for route {route['RouteKey']}. Ignoring.")
