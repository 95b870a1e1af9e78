"""URI templates of rest protocols: each operation's `http.requestUri` (labels `{Name}`, greedy labels `{Name+}`,
literal query keys after `?`) compiled once; the most specific template wins, as in AWS's own routers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from botocore.model import OperationModel

if TYPE_CHECKING:
    from broker.protocol.base import HttpRequest
    from broker.protocol.spec import ServiceSpec


@dataclass(frozen=True, slots=True)
class Template:
    spec: ServiceSpec
    op: OperationModel
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]  # label names in order of their groups
    query_keys: frozenset[str]  # literal query keys the request must carry (e.g. ?find=LayerVersion)
    weight: tuple[int, int, int]  # specificity: literal characters, required query keys, fewer greedy labels


def _template(spec: ServiceSpec, op: OperationModel) -> Template:
    uri = str(op.http.get("requestUri", "/"))
    path, _, literal_query = uri.partition("?")
    labels: list[str] = []
    parts: list[str] = []
    literal = 0
    greedy = 0
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{") and piece.endswith("}"):
            name = piece[1:-1]
            if name.endswith("+"):
                labels.append(name[:-1])
                parts.append("(.+)")
                greedy += 1
            else:
                labels.append(name)
                parts.append("([^/]+)")
        elif piece:
            literal += len(piece)
            parts.append(re.escape(piece))
    keys = frozenset(kv.partition("=")[0] for kv in literal_query.split("&") if kv)
    pattern = re.compile("".join(parts).rstrip("/") + "/?")
    return Template(
        spec, op, str(op.http.get("method", "POST")), pattern, tuple(labels), keys, (literal, len(keys), -greedy)
    )


class RestRoutes:
    """Every operation of the rest-json models, indexed by the first literal path segment of its template (the
    operations without a handler route too, to be answered "not supported" by name)."""

    def __init__(self, specs: list[ServiceSpec]) -> None:
        self.by_segment: dict[str, list[Template]] = {}
        for spec in specs:
            if spec.model.metadata.get("protocol") != "rest-json":
                continue
            for name in spec.model.operation_names:
                op = spec.model.operation_model(name)
                first = str(op.http.get("requestUri", "/")).lstrip("/").split("/", 1)[0].split("?", 1)[0]
                self.by_segment.setdefault(first, []).append(_template(spec, op))
        for templates in self.by_segment.values():
            templates.sort(key=lambda t: t.weight, reverse=True)
        # Segments several services share (API Gateway's and Scheduler's /tags/{arn}): the signer tells them apart.
        self.shared = {k for k, ts in self.by_segment.items() if len({id(t.spec) for t in ts}) > 1}

    def claims(self, path: str) -> bool:
        """Whether a request path belongs to a rest-json service (its first segment starts some template)."""
        return path.lstrip("/").split("/", 1)[0] in self.by_segment

    def find(self, req: HttpRequest) -> tuple[Template, dict[str, str]] | ServiceSpec | None:
        """The template a request matches and its decoded labels; else the service whose paths it is under (or
        None). Raises UnicodeDecodeError / ValueError for a malformed query string or label."""
        raw = (req.raw_path or req.path.encode()).decode("latin-1").split("?", 1)[0]
        first = raw.lstrip("/").split("/", 1)[0]
        query = req.query_params()
        templates = self.by_segment.get(first, [])
        fallback: tuple[Template, dict[str, str]] | None = None
        for t in templates:
            if t.method != req.method or not t.query_keys <= query.keys():
                continue
            m = t.pattern.fullmatch(raw)
            if m is not None:
                labels = {n: unquote(v, errors="strict") for n, v in zip(t.labels, m.groups(), strict=True)}
                if first not in self.shared or t.spec.model.signing_name == _signer(req, query):
                    return t, labels
                fallback = fallback or (t, labels)
        if fallback is not None:
            return fallback
        return templates[0].spec if templates else None


def _signer(req: HttpRequest, query: dict[str, str]) -> str:
    """The service of the request's SigV4 credential scope ("" when unsigned)."""
    cred = req.credential(query)
    return cred[2] if cred else ""
