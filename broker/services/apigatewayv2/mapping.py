"""Parameter mapping of HTTP APIs: an integration's RequestParameters change the request before it is sent
(`append|overwrite|remove:header.<name>`, `append|overwrite|remove:querystring.<name>`, `overwrite:path`) and its
ResponseParameters, chosen by the integration's status code, change the answer (`append|overwrite|remove:
header.<name>`, `overwrite:statuscode`). Values are selection expressions (incoming.evaluate), evaluated against
the request as it came (and the integration's answer, for `$response.*`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker.services.apigatewayv2.incoming import Answer, Incoming, evaluate

Doc = dict[str, Any]
Response = tuple[int, list[tuple[bytes, bytes]], bytes]

# Headers no mapping may set (the control plane refuses them; the framing headers are the sender's own).
_RESERVED = frozenset(
    {
        "authorization", "connection", "content-encoding", "content-length", "content-location", "forwarded",
        "keep-alive", "origin", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding",
        "upgrade", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "via", "host",
    }
)  # fmt: skip
_RESERVED_PREFIXES = ("access-control-", "apigw-", "x-amz-", "x-amzn-")


def _reserved(name: str) -> bool:
    return name in _RESERVED or name.startswith(_RESERVED_PREFIXES)


def _safe(value: str) -> bool:
    return not any(c in value for c in "\r\n\x00")


@dataclass
class Outgoing:
    """The parts of a request an HTTP integration sends that mappings may change."""

    headers: list[tuple[str, str]]  # lowercase names
    query: list[tuple[str, str]]
    path: str
    query_changed: bool = False
    path_changed: bool = False


def _change(pairs: list[tuple[str, str]], op: str, name: str, value: str | None, fold: bool) -> list[tuple[str, str]]:
    def same(k: str) -> bool:
        return k.lower() == name.lower() if fold else k == name

    if op == "remove":
        return [(k, v) for k, v in pairs if not same(k)]
    if value is None:
        return pairs  # a value the request does not have leaves the parameter alone
    if op == "overwrite":
        return [(k, v) for k, v in pairs if not same(k)] + [(name, value)]
    if op == "append":
        return [*pairs, (name, value)]
    return pairs


def map_request(parameters: Doc | None, request: Incoming, out: Outgoing) -> Outgoing:
    for key, source in (parameters or {}).items():
        op, _, target = str(key).partition(":")
        where, _, name = target.partition(".")
        value = evaluate(str(source), request)
        if where == "path" and op == "overwrite" and not name:
            if value is not None:
                out.path, out.path_changed = value if value.startswith("/") else "/" + value, True
        elif where == "header" and name and not _reserved(name.lower()):
            if value is None or _safe(value):
                out.headers = _change(out.headers, op, name.lower(), value, True)
        elif where == "querystring" and name:
            out.query = _change(out.query, op, name, value, False)
            out.query_changed = True
    return out


def map_response(integration: Doc, request: Incoming, response: Response) -> Response:
    """An integration's answer with the ResponseParameters of its status code applied."""
    status, headers, body = response
    changes = (integration.get("ResponseParameters") or {}).get(str(status))
    if not changes:
        return response
    answer = Answer(status, headers, body)
    pairs = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in headers]
    for key, source in changes.items():
        op, _, target = str(key).partition(":")
        where, _, name = target.partition(".")
        value = evaluate(str(source), request, answer)
        if where == "statuscode" and op == "overwrite":
            try:
                code = int(value or "")
            except ValueError:
                continue
            if 100 <= code <= 599:
                status = code
        elif where == "header" and name and not _reserved(name.lower()) and (value is None or _safe(value)):
            pairs = _change(pairs, op, name.lower(), value, True)
    return status, [(k.encode("latin-1", "replace"), v.encode("latin-1", "replace")) for k, v in pairs], body
