"""Which deployed resource and method a request reaches: the resource tree of a deployment's snapshot matched
segment by segment, a literal path part before a `{variable}` before a greedy `{proxy+}` (API Gateway's most
specific match), the method itself before `ANY`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

Doc = dict[str, Any]


@dataclass
class Match:
    resource: Doc
    method: Doc
    path_parameters: dict[str, str]


def _children(resources: list[Doc]) -> dict[str, list[Doc]]:
    out: dict[str, list[Doc]] = {}
    for r in resources:
        out.setdefault(r.get("parentId", ""), []).append(r)
    return out


def _walk(children: dict[str, list[Doc]], node: Doc, segments: list[str], params: dict[str, str]) -> Doc | None:
    if not segments:
        return node
    kids = children.get(node["id"], [])
    head = segments[0]
    for r in kids:  # a literal path part
        if r["pathPart"] == unquote(head):
            found = _walk(children, r, segments[1:], params)
            if found is not None:
                return found
    for r in kids:  # a {variable}: one segment
        part = r["pathPart"]
        if part.startswith("{") and not part.endswith("+}"):
            trial = {**params, part[1:-1]: unquote(head)}
            found = _walk(children, r, segments[1:], trial)
            if found is not None:
                params.update(trial)
                return found
    for r in kids:  # a greedy {proxy+}: the rest of the path
        part = r["pathPart"]
        if part.endswith("+}"):
            params[part[1:-2]] = unquote("/".join(segments))
            return r
    return None


def match(resources: list[Doc], method: str, path: str) -> Match | None:
    """The resource and method a request reaches, with its path parameters; None: API Gateway's 403 "Missing
    Authentication Token" (no such resource or method). `path` is the raw (still percent-encoded) path, so that an
    encoded slash stays inside its segment."""
    root = next((r for r in resources if "parentId" not in r), None)
    if root is None:
        return None
    segments = [s for s in path.split("/") if s]
    params: dict[str, str] = {}
    resource = _walk(_children(resources), root, segments, params)
    if resource is None:
        return None
    methods = resource.get("resourceMethods") or {}
    chosen = methods.get(method) or methods.get("ANY")
    if chosen is None:
        return None
    return Match(resource, chosen, params)
