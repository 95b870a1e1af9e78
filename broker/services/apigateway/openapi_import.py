"""An OpenAPI 3.0 or Swagger 2.0 definition (JSON or YAML) read into the objects of a REST API as ImportRestApi and
PutRestApi create them: the API's settings, models (components.schemas / definitions, their `$ref`s rewritten to
API Gateway model URLs), authorizers (security schemes with x-amazon-apigateway-authorizer), request validators,
gateway responses and, per path, the resources and their methods with method responses, integration and
integration responses. Pure: nothing is stored here; every object is checked with the same rules its own
Put/Create operation applies, so a plan that comes back can be written as it is. Problems that stop an import are
collected and raised together as AWS words them ("Errors found during import:"), minor ones come back as
warnings."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from broker.errors import ServiceError
from broker.services.apigateway import (
    authorizer_operations,
    errors,
    gateway_response_operations,
    method_operations,
    model_operations,
    resource_operations,
)
from broker.services.apigateway.store import Doc

MAX_NODES = 500_000  # values in one definition (a YAML alias graph could otherwise expand without bound)
MAX_DEPTH = 128  # nesting of a definition
MAX_REF_HOPS = 16  # a `$ref` to a `$ref` ... (cycles included)
VERBS = ("get", "put", "post", "delete", "options", "head", "patch")
ANY_METHOD = "x-amazon-apigateway-any-method"
BASE_PATH_MODES = ("ignore", "prepend", "split")
AUTHORIZER_TYPES = {"token": "TOKEN", "request": "REQUEST", "cognito_user_pools": "COGNITO_USER_POOLS"}
PARAMETER_PLACES = {"path": "path", "query": "querystring", "header": "header"}
STATUS = re.compile(r"^[1-5]\d\d$")
SCHEMA_REFS = ("#/components/schemas/", "#/definitions/")
INVALID = "Invalid OpenAPI input."


def model_url(api_id: str, name: str) -> str:
    return f"https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}"


def invalid() -> ServiceError:
    return errors.bad_request(INVALID)


def _plain(value: Any, depth: int, budget: list[int]) -> Any:
    """`value` as plain JSON data: string keys (YAML's `200:` is an int), dates and other YAML scalars as text,
    non-finite numbers as text; refuses documents too deep or too large (YAML aliases may share or loop)."""
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise invalid()
    if isinstance(value, dict):
        return {_key(k): _plain(v, depth + 1, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, depth + 1, budget) for v in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return key if isinstance(key, str) else str(key)


def parse(body: bytes) -> Doc:
    """The definition as a JSON object, else the error AWS answers for input that is not one."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid() from None
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):
        try:
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # the C parser if built
        except (yaml.YAMLError, ValueError, TypeError, RecursionError, OverflowError):
            raise invalid() from None
    try:
        data = _plain(data, 0, [MAX_NODES])
    except RecursionError:
        raise invalid() from None
    if not isinstance(data, dict):
        raise invalid()
    return data


@dataclass
class Options:
    base_path: str = "ignore"  # ignore | prepend | split
    endpoint_types: list[str] | None = None


@dataclass
class Plan:
    """What a definition creates. Methods name their authorizer and validator by name (`_authorizer`,
    `_validator`): the ids are only known when the plan is written."""

    api: Doc = field(default_factory=dict)
    models: dict[str, Doc] = field(default_factory=dict)
    authorizers: dict[str, Doc] = field(default_factory=dict)
    validators: dict[str, Doc] = field(default_factory=dict)
    gateway_responses: dict[str, Doc] = field(default_factory=dict)
    resources: dict[str, dict[str, Doc]] = field(default_factory=dict)  # path -> {verb: method}
    # (location, properties) of x-amazon-apigateway-documentation's parts; None: the definition has none
    documentation: list[tuple[Doc, str]] | None = None
    warnings: list[str] = field(default_factory=list)


def _dict(value: Any) -> Doc:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text_map(value: Any) -> dict[str, str]:
    return {k: t for k, v in _dict(value).items() if (t := _text(v)) is not None}


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


class _Reader:
    """One definition being read: its version's conventions, the problems found so far."""

    def __init__(self, doc: Doc, api_id: str) -> None:
        self.doc = doc
        self.api_id = api_id
        self.v2 = "swagger" in doc
        self.errors: list[str] = []
        self.plan = Plan()
        components = _dict(doc.get("components"))
        self.schemas = _dict(doc.get("definitions") if self.v2 else components.get("schemas"))
        self.schemes = _dict(doc.get("securityDefinitions") if self.v2 else components.get("securitySchemes"))

    # -- references

    def resolve(self, node: Any) -> Doc:
        """A local `$ref` (#/...) followed to what it names ({} when it names nothing)."""
        for _ in range(MAX_REF_HOPS):
            if not isinstance(node, dict):
                return {}
            ref = node.get("$ref")
            if not isinstance(ref, str) or ref in SCHEMA_REFS or any(ref.startswith(p) for p in SCHEMA_REFS):
                return node
            if not ref.startswith("#/"):
                return {}
            target: Any = self.doc
            for part in ref[2:].split("/"):
                target = _dict(target).get(part.replace("~1", "/").replace("~0", "~"))
            node = target
        return {}

    def rewrite(self, node: Any) -> Any:
        """A schema with its references to the definition's schemas turned into model URLs."""
        if isinstance(node, list):
            return [self.rewrite(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for k, v in node.items():
            name = _schema_name(v) if k == "$ref" else None
            out[k] = model_url(self.api_id, name) if name is not None else self.rewrite(v)
        return out

    # -- the API

    def read_api(self, options: Options) -> None:
        doc, api = self.doc, self.plan.api
        info = _dict(doc.get("info"))
        for key, source in (("name", info.get("title")), ("description", info.get("description"))):
            if _text(source):
                api[key] = _text(source)
        if _text(info.get("version")) is not None:
            api["version"] = _text(info.get("version"))
        media = doc.get("x-amazon-apigateway-binary-media-types")
        if isinstance(media, list):
            api["binaryMediaTypes"] = [t for v in media if (t := _text(v))]
        source = doc.get("x-amazon-apigateway-api-key-source")
        if source is not None:
            api["apiKeySource"] = _text(source) or ""
        size = doc.get("x-amazon-apigateway-minimum-compression-size")
        if size is not None:
            if _int(size) is None:
                self.errors.append("Invalid minimum compression size, must be between 0 and 10485760")
            else:
                api["minimumCompressionSize"] = _int(size)
        policy = doc.get("x-amazon-apigateway-policy")
        if isinstance(policy, dict | list):
            api["policy"] = json.dumps(policy)
        elif _text(policy):
            api["policy"] = _text(policy)
        endpoint = _dict(doc.get("x-amazon-apigateway-endpoint-configuration"))
        types = options.endpoint_types or [t for v in _list(endpoint.get("types")) if (t := _text(v))]
        if types:
            api["endpointConfiguration"] = {"types": types}
        if endpoint.get("vpcEndpointIds") is not None:
            api.setdefault("endpointConfiguration", {})["vpcEndpointIds"] = [
                t for v in _list(endpoint["vpcEndpointIds"]) if (t := _text(v))
            ]
        if "disableExecuteApiEndpoint" in endpoint:
            api["disableExecuteApiEndpoint"] = _bool(endpoint["disableExecuteApiEndpoint"])

    def base_path(self) -> str:
        """The definition's base path ("a/b", or ""): Swagger's basePath; in OpenAPI 3 the first `basePath`
        server variable, else the path of the first server's URL."""
        if self.v2:
            raw = _text(self.doc.get("basePath")) or ""
        else:
            servers = [_dict(s) for s in _list(self.doc.get("servers"))]
            variables = [_dict(_dict(s.get("variables")).get("basePath")) for s in servers]
            raw = next((_text(v.get("default")) or "" for v in variables if "default" in v), "")
            url = _text(servers[0].get("url")) if servers and not raw else None
            if url:
                try:
                    raw = urlsplit(url).path
                except ValueError:
                    raw = ""
                raw = "" if "{" in raw else raw
        return "/".join(p for p in raw.split("/") if p)

    # -- models

    def read_models(self) -> None:
        for name, schema in self.schemas.items():
            if not isinstance(schema, dict):
                self.errors.append(f"Unable to create model '{name}': Invalid model schema specified")
                continue
            self.add_model(name, schema)

    def add_model(self, name: str, schema: Doc) -> None:
        if not model_operations.NAME.match(name):
            self.errors.append(f"Unable to create model '{name}': Model name must be non-empty and alphanumeric")
            return
        rewritten = self.rewrite(schema)
        if model_operations.schema_depth(rewritten) > model_operations.MAX_DEPTH:
            self.errors.append(
                f"Unable to create model '{name}': Invalid model specified: Validation Result: warnings : [], "
                "errors : [Invalid model schema specified]"
            )
            return
        self.plan.models[name] = {
            "name": name,
            "schema": json.dumps(rewritten, indent=2),
            "contentType": "application/json",
        }

    def body_model(self, schema: Any, where: str) -> str | None:
        """The model a request or response body names: a definition's schema by reference, an inline schema as
        a model of its own (named after its content), nothing for a schema-less body."""
        if not isinstance(schema, dict) or not schema:
            return None
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = _schema_name(ref)
            if name is None or name not in self.plan.models and name not in model_operations.DEFAULTS:
                self.plan.warnings.append(f"Parse issue: attribute {where}.{ref} is missing")
                return None
            return name
        canonical = json.dumps(schema, sort_keys=True)
        name = "Model" + hashlib.sha1(canonical.encode()).hexdigest()[:8]
        if name not in self.plan.models:
            self.add_model(name, schema)
        return name if name in self.plan.models else None

    # -- security

    def read_authorizers(self) -> None:
        for name, raw in self.schemes.items():
            scheme = self.resolve(raw)
            ext = scheme.get("x-amazon-apigateway-authorizer")
            if not isinstance(ext, dict):
                continue
            kind = AUTHORIZER_TYPES.get((_text(ext.get("type")) or "").lower())
            if kind is None:
                self.errors.append(
                    f"Unable to create authorizer '{name}': Invalid authorizer type specified: "
                    f"{_text(ext.get('type'))}. Valid values are: {', '.join(authorizer_operations.TYPES)}"
                )
                continue
            authorizer: Doc = {"name": name, "type": kind}
            arns = [t for v in _list(ext.get("providerARNs")) if (t := _text(v))]
            if arns:
                authorizer["providerARNs"] = arns
            for key in ("authorizerUri", "authorizerCredentials", "identitySource", "identityValidationExpression"):
                if _text(ext.get(key)):
                    authorizer[key] = _text(ext.get(key))
            auth_type = _text(scheme.get("x-amazon-apigateway-authtype"))
            if auth_type:
                authorizer["authType"] = auth_type
            header = _text(scheme.get("name"))
            if kind == "TOKEN" and "identitySource" not in authorizer and header and scheme.get("in") == "header":
                authorizer["identitySource"] = f"method.request.header.{header}"
            elif kind == "TOKEN":
                authorizer.setdefault("identitySource", authorizer_operations.TOKEN_IDENTITY_SOURCE)
            ttl = ext.get("authorizerResultTtlInSeconds")
            authorizer["authorizerResultTtlInSeconds"] = (
                authorizer_operations.DEFAULT_TTL if ttl is None else (_int(ttl) if _int(ttl) is not None else -1)
            )
            try:
                authorizer_operations.check(authorizer)
            except ServiceError as e:
                self.errors.append(f"Unable to create authorizer '{name}': {e.message}")
                continue
            self.plan.authorizers[name] = authorizer

    def security(self, method: Doc, requirements: Any, where: str) -> None:
        """authorizationType, authorizerId (by name), scopes and apiKeyRequired from a security requirement."""
        for requirement in _list(requirements):
            for name, scopes in _dict(requirement).items():
                scheme = self.resolve(self.schemes.get(name))
                auth_type = (_text(scheme.get("x-amazon-apigateway-authtype")) or "").lower()
                if name in self.plan.authorizers:
                    authorizer = self.plan.authorizers[name]
                    kind = authorizer["type"]
                    method["authorizationType"] = "COGNITO_USER_POOLS" if kind == "COGNITO_USER_POOLS" else "CUSTOM"
                    method["_authorizer"] = name
                    wanted = [t for v in _list(scopes) if (t := _text(v))]
                    if wanted and kind == "COGNITO_USER_POOLS":
                        method["authorizationScopes"] = wanted
                elif auth_type == "awssigv4":
                    method["authorizationType"] = "AWS_IAM"
                elif scheme.get("type") == "apiKey" and (_text(scheme.get("name")) or "").lower() == "x-api-key":
                    method["apiKeyRequired"] = True
                elif not scheme:
                    self.plan.warnings.append(f"Parse issue: attribute {where}.security.{name} is missing")

    # -- validators, gateway responses

    def read_validators(self) -> None:
        for name, raw in _dict(self.doc.get("x-amazon-apigateway-request-validators")).items():
            spec = _dict(raw)
            self.plan.validators[name] = {
                "name": name,
                "validateRequestBody": _bool(spec.get("validateRequestBody")),
                "validateRequestParameters": _bool(spec.get("validateRequestParameters")),
            }

    def read_gateway_responses(self) -> None:
        for kind, raw in _dict(self.doc.get("x-amazon-apigateway-gateway-responses")).items():
            if kind not in gateway_response_operations.STATUS:
                self.plan.warnings.append(f"Invalid gateway response type specified: {kind}")
                continue
            spec = _dict(raw)
            response: Doc = {"responseType": kind}
            status = _text(spec.get("statusCode")) or gateway_response_operations.STATUS[kind]
            if status is not None and not STATUS.match(status):
                self.errors.append(f"Unable to put gateway response '{kind}': Invalid status code specified: {status}")
                continue
            if status is not None:
                response["statusCode"] = status
            response["responseParameters"] = _text_map(spec.get("responseParameters"))
            response["responseTemplates"] = _text_map(spec.get("responseTemplates"))
            response["defaultResponse"] = False
            self.plan.gateway_responses[kind] = response

    # -- paths

    def read_paths(self, prefix: str) -> None:
        paths = self.doc["paths"]
        for raw_path, raw_item in paths.items():
            path = "/" + "/".join(p for p in (prefix + "/" + raw_path).split("/") if p)
            bad = next((p for p in path.split("/") if p and not resource_operations.PATH_PART.match(p)), None)
            if bad is not None:
                self.errors.append(
                    f"Unable to create resource at path '{path}': Resource's path part only allow a-zA-Z0-9._- and "
                    "curly braces at the beginning and the end and an optional plus sign before the closing brace."
                )
                continue
            item = self.resolve(raw_item)
            methods = self.plan.resources.setdefault(path, {})
            shared = _list(item.get("parameters"))
            for key, operation in item.items():
                verb = "ANY" if key == ANY_METHOD else key.upper() if key in VERBS else None
                if verb is not None and isinstance(operation, dict):
                    where = f"paths.'{raw_path}'({key})"
                    methods[verb] = self.read_method(verb, path, where, shared, operation)

    def read_method(self, verb: str, path: str, where: str, shared: list[Any], op: Doc) -> Doc:
        method: Doc = {"httpMethod": verb, "authorizationType": "NONE"}
        if _text(op.get("operationId")):
            method["operationName"] = _text(op.get("operationId"))
        method["apiKeyRequired"] = False
        self.security(method, op.get("security", self.doc.get("security")), where)
        auth = _dict(op.get("x-amazon-apigateway-auth"))
        if (_text(auth.get("type")) or "").upper() in ("AWS_IAM", "NONE"):
            method["authorizationType"] = (_text(auth.get("type")) or "").upper()
        parameters: dict[tuple[str, str], Doc] = {}
        for raw in [*shared, *_list(op.get("parameters"))]:
            p = self.resolve(raw)
            if _text(p.get("name")) is not None:
                parameters[(_text(p.get("in")) or "", _text(p.get("name")) or "")] = p
        requested: dict[str, bool] = {}
        models: dict[str, str] = {}
        for (place, name), p in parameters.items():
            if place in PARAMETER_PLACES:
                required = True if place == "path" else _bool(p.get("required"))
                requested[f"method.request.{PARAMETER_PLACES[place]}.{name}"] = required
            elif place == "body":
                model = self.body_model(p.get("schema"), f"{where}.parameters.{name}.schema")
                for media in _list(op.get("consumes", self.doc.get("consumes"))) or ["application/json"]:
                    if model is not None and _text(media):
                        models[_text(media) or ""] = model
        body = self.resolve(op.get("requestBody"))
        for media, content in _dict(body.get("content")).items():
            model = self.body_model(_dict(content).get("schema"), f"{where}.requestBody.content.'{media}'.schema")
            if model is not None:
                models[media] = model
        if requested:
            method["requestParameters"] = requested
        if models:
            method["requestModels"] = models
        validator = op.get(
            "x-amazon-apigateway-request-validator", self.doc.get("x-amazon-apigateway-request-validator")
        )
        if _text(validator):
            if _text(validator) in self.plan.validators:
                method["_validator"] = _text(validator)
            else:
                self.plan.warnings.append(f"Invalid request validator specified: {_text(validator)}")
        responses = self.read_responses(op, where)
        if responses:
            method["methodResponses"] = responses
        integration = op.get("x-amazon-apigateway-integration")
        if isinstance(integration, dict):
            read = self.read_integration(verb, path, integration, set(responses))
            if read is not None:
                method["methodIntegration"] = read
        return method

    def read_responses(self, op: Doc, where: str) -> dict[str, Doc]:
        out: dict[str, Doc] = {}
        for status, raw in _dict(op.get("responses")).items():
            if not STATUS.match(status):
                if status != "default":
                    self.plan.warnings.append(f"Invalid status code specified: {status}")
                continue
            spec = self.resolve(raw)
            response: Doc = {"statusCode": status}
            headers = {
                f"method.response.header.{name}": _bool(_dict(h).get("required"))
                for name, h in _dict(spec.get("headers")).items()
            }
            if headers:
                response["responseParameters"] = headers
            models: dict[str, str] = {}
            if self.v2:
                model = self.body_model(spec.get("schema"), f"{where}.responses.{status}.schema")
                for media in _list(op.get("produces", self.doc.get("produces"))) or ["application/json"]:
                    if model is not None and _text(media):
                        models[_text(media) or ""] = model
            else:
                for media, content in _dict(spec.get("content")).items():
                    schema = _dict(content).get("schema")
                    model = self.body_model(schema, f"{where}.responses.{status}.content.schema")
                    if model is not None:
                        models[media] = model
            if models:
                response["responseModels"] = models
            out[status] = response
        return out

    def read_integration(self, verb: str, path: str, ext: Doc, statuses: set[str]) -> Doc | None:
        where = f"Unable to put integration on '{verb}' for resource at path '{path}'"
        kind = (_text(ext.get("type")) or "").upper()
        if kind not in method_operations.INTEGRATION_TYPES:
            self.errors.append(f"{where}: Invalid integration type specified: {_text(ext.get('type'))}")
            return None
        integration: Doc = {"type": kind}
        if _text(ext.get("httpMethod")):
            integration["httpMethod"] = (_text(ext.get("httpMethod")) or "").upper()
        for key in ("uri", "credentials", "contentHandling", "connectionId", "cacheNamespace"):
            if _text(ext.get(key)):
                integration[key] = _text(ext.get(key))
        for key in ("requestParameters", "requestTemplates"):
            if _text_map(ext.get(key)):
                integration[key] = _text_map(ext.get(key))
        if isinstance(ext.get("tlsConfig"), dict):
            tls = _dict(ext.get("tlsConfig"))
            integration["tlsConfig"] = {"insecureSkipVerification": _bool(tls.get("insecureSkipVerification"))}
        if kind != "MOCK" or _text(ext.get("connectionType")):
            integration["connectionType"] = (_text(ext.get("connectionType")) or "INTERNET").upper()
        integration["passthroughBehavior"] = (_text(ext.get("passthroughBehavior")) or "WHEN_NO_MATCH").upper()
        timeout = ext.get("timeoutInMillis")
        integration["timeoutInMillis"] = method_operations.MAX_TIMEOUT_MS if timeout is None else _int(timeout) or 0
        integration["cacheKeyParameters"] = [t for v in _list(ext.get("cacheKeyParameters")) if (t := _text(v))]
        try:
            method_operations.check_integration(integration)
        except ServiceError as e:
            self.errors.append(f"{where}: {e.message}")
            return None
        responses: dict[str, Doc] = {}
        for pattern, raw in _dict(ext.get("responses")).items():
            spec = _dict(raw)
            status = _text(spec.get("statusCode")) or ""
            if status not in statuses:
                self.errors.append(
                    f"Unable to put integration response on '{verb}' for resource at path '{path}': "
                    "Invalid Response status code specified"
                )
                continue
            response: Doc = {"statusCode": status}
            if pattern != "default":
                response["selectionPattern"] = pattern
            for key in ("responseParameters", "responseTemplates"):
                if _text_map(spec.get(key)):
                    response[key] = _text_map(spec.get(key))
            handling = _text(spec.get("contentHandling"))
            if handling:
                if handling not in method_operations.CONTENT_HANDLINGS:
                    self.errors.append(
                        f"Unable to put integration response on '{verb}' for resource at path '{path}': "
                        f"Invalid content handling specified: {handling}"
                    )
                    continue
                response["contentHandling"] = handling
            responses[status] = response
        if responses:
            integration["integrationResponses"] = responses
        return integration


def _schema_name(ref: Any) -> str | None:
    if not isinstance(ref, str):
        return None
    for prefix in SCHEMA_REFS:
        if ref.startswith(prefix) and len(ref) > len(prefix):
            return ref[len(prefix) :]
    return None


def check_version(doc: Doc) -> None:
    """A Swagger 2.0 or OpenAPI 3.0.x document with its paths, else AWS's answer to input it cannot read."""
    version = _text(doc.get("swagger")) if "swagger" in doc else _text(doc.get("openapi"))
    ok = version == "2.0" if "swagger" in doc else (version or "").startswith("3.0")
    if not ok or not isinstance(doc.get("paths"), dict):
        raise invalid()


def plan(doc: Doc, api_id: str, options: Options) -> Plan:
    """The objects `doc` defines for the API `api_id`; BadRequestException with every error found."""
    check_version(doc)
    reader = _Reader(doc, api_id)
    reader.read_api(options)
    reader.read_models()
    reader.read_authorizers()
    reader.read_validators()
    reader.read_gateway_responses()
    base = reader.base_path()
    parts = base.split("/") if base else []
    prefix = {"prepend": "/".join(parts), "split": "/".join(parts[1:])}.get(options.base_path, "")
    reader.read_paths(prefix)
    if reader.errors:
        raise errors.bad_request("Errors found during import:\n\t" + "\n\t".join(reader.errors))
    return reader.plan


def warnings_error(warnings: list[str]) -> ServiceError:
    """What failOnWarnings answers when the definition had warnings."""
    return errors.bad_request("Warnings found during import:\n\t" + "\n\t".join(warnings))
