"""patchOperations as API Gateway applies them to a document: each operation names a path under one of the
document's patchable members (JSON Pointer escaping: `~1` is "/", `~0` is "~"); what a path may do depends on the
member's kind — a scalar is replaced (or removed, back to its default), a set of strings takes `add`/`remove` of
one value named in the path, a map takes `add`/`replace`/`remove` of one key. replace_only() is apply() for the
objects whose patch table allows only `replace`."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from broker.services.apigateway import errors

STRING, BOOL, INT, SET, MAP = "string", "bool", "int", "set", "map"

Doc = dict[str, Any]


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _value(kind: str, path: str, raw: Any) -> Any:
    if kind == BOOL:
        if str(raw).lower() not in ("true", "false"):
            raise errors.bad_request(f"Invalid boolean value '{raw}' for path {path}")
        return str(raw).lower() == "true"
    if kind == INT:
        try:
            return int(str(raw))
        except ValueError:
            raise errors.bad_request(f"Invalid value '{raw}' for path {path}: must be an integer") from None
    return "" if raw is None else str(raw)


def apply(doc: Doc, operations: list[Doc] | None, members: Mapping[str, str]) -> Doc:
    """A copy of `doc` with the operations applied in order; BadRequestException for a path or operation the
    member does not take."""
    out = copy.deepcopy(doc)
    for operation in operations or []:
        op = operation.get("op")
        path = operation.get("path") or ""
        value = operation.get("value")
        parts = [_unescape(p) for p in path.split("/")[1:]] if path.startswith("/") else []
        kind = members.get(parts[0]) if parts else None
        if kind is None or (kind in (STRING, BOOL, INT) and len(parts) != 1) or (kind in (SET, MAP) and len(parts) > 2):
            allowed = ", ".join(f"/{m}" for m in members)
            raise errors.bad_request(
                f"Invalid patch path '{path}' specified for op '{op}'. Must be one of: [{allowed}]"
            )
        name = parts[0]
        if kind in (STRING, BOOL, INT):
            if op == "replace" or (op == "add" and kind == STRING):
                out[name] = _value(kind, path, value)
            elif op == "remove":
                out.pop(name, None)
            else:
                raise errors.bad_request(f"Invalid patch operation specified. Must be 'replace' for path {path}")
        elif kind == SET:
            items: list[str] = list(out.get(name) or [])
            item = parts[1] if len(parts) == 2 else None
            if op == "add" and item is not None:
                if item not in items:
                    items.append(item)
            elif op == "remove" and item is not None:
                if item not in items:
                    raise errors.bad_request(f"Invalid patch path {path}: {item} does not exist")
                items.remove(item)
            elif op == "replace" and item is not None and value is not None:
                items = [str(value) if x == item else x for x in items]
            else:
                raise errors.bad_request(
                    f"Invalid patch operation specified. Must be 'add' or 'remove' for path {path}"
                )
            if items:
                out[name] = items
            else:
                out.pop(name, None)
        else:  # MAP
            entries: dict[str, Any] = dict(out.get(name) or {})
            key = parts[1] if len(parts) == 2 else None
            if op in ("add", "replace") and key is not None:
                entries[key] = "" if value is None else str(value)
            elif op == "remove" and key is not None:
                entries.pop(key, None)
            elif op == "remove":
                entries = {}
            else:
                raise errors.bad_request(f"Invalid patch operation specified for path {path}")
            if entries:
                out[name] = entries
            else:
                out.pop(name, None)
    return out


def replace_only(doc: Doc, operations: list[Doc] | None, members: Mapping[str, str]) -> Doc:
    """apply() for members AWS's patch table lets only `replace` change."""
    for operation in operations or []:
        path = str(operation.get("path") or "")
        if path[1:] in members and operation.get("op") != "replace":
            raise errors.bad_request(f"Invalid patch operation specified. Must be 'replace' for path {path}")
    return apply(doc, operations, members)
