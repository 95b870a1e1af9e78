"""What a target receives of an event (user guide, "Transforming target input"): Input (a constant JSON text),
InputPath (the part of the event a JSONPath selects), InputTransformer (variables from InputPathsMap, and the
predefined aws.events.* ones, put into InputTemplate), or by default the whole event. Every JSON the broker writes
for a target (the whole event, a selected part, a template's values) is one encoding: `encode`, minified UTF-8."""

from __future__ import annotations

import json
import re
from typing import Any

_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]")
_PLACEHOLDER = re.compile(r"<([^<>\s]+)>")
MISSING = object()


def encode(value: Any) -> str:
    """JSON text as EventBridge sends it: no spaces between tokens, non-ASCII characters as themselves."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def select(event: Any, path: str) -> Any:
    """The value a JSONPath (as target_operations checks them: `$`, `.name`, `['name']`, `[n]`, `.*`) selects;
    MISSING when it selects nothing. A wildcard gives the list of what it matches."""
    values = [event]
    many = False
    for m in _STEP.finditer(path, 1):
        name, index, quoted = m.groups()
        out: list[Any] = []
        for v in values:
            if name == "*":
                many = True
                out.extend(v.values() if isinstance(v, dict) else v if isinstance(v, list) else [])
            elif index is not None:
                if isinstance(v, list) and int(index) < len(v):
                    out.append(v[int(index)])
            else:
                key = quoted if quoted is not None else name
                if isinstance(v, dict) and key in v:
                    out.append(v[key])
        values = out
    if many:
        return values
    return values[0] if values else MISSING


def payload(
    target: dict[str, Any], event: dict[str, Any], rule_arn: str, rule_name: str, event_json: str, ingested: str
) -> str:
    """The text the target receives for `event` (`event_json` is the event as JSON text, `ingested` the time
    EventBridge received it)."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath") is not None:
        value = select(event, target["InputPath"])
        return "null" if value is MISSING else encode(value)
    transformer = target.get("InputTransformer")
    if transformer is None:
        return event_json
    variables: dict[str, Any] = {
        name: select(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    variables.update(
        {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": ingested,
            # The original event without its detail, and the whole event (user guide, "Predefined variables").
            "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
            "aws.events.event.json": event,
        }
    )
    return render(transformer["InputTemplate"], variables)


def render(template: str, variables: dict[str, Any]) -> str:
    """Fill a template's <name> placeholders. In a JSON template (one that starts with `{`, `[` or `"`) a value
    outside a string literal goes in as JSON (strings quoted), one inside a string literal as its text, escaped
    for JSON; in a plain-text template values go in as their text. Unknown names are left as they are. A variable
    whose path selected nothing "isn't created and won't appear in the output" (user guide, "Common issues with
    transforming input"): its placeholder is replaced by nothing, wherever it stands (a JSON template may then not
    be JSON; the target receives the text as it is)."""
    json_template = template.lstrip()[:1] in ("{", "[", '"')
    out: list[str] = []
    pos = 0
    in_string = False
    for m in _PLACEHOLDER.finditer(template):
        literal = template[pos : m.start()]
        out.append(literal)
        if json_template:
            in_string = _inside_string(literal, in_string)
        pos = m.end()
        name = m.group(1)
        if name not in variables:
            out.append(m.group(0))
            continue
        value = variables[name]
        if value is MISSING:
            continue
        if not json_template:
            out.append(_text(value))
        elif in_string:
            out.append(encode(_text(value))[1:-1])
        else:
            out.append(encode(value))
    out.append(template[pos:])
    return "".join(out)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else encode(value)


def _inside_string(text: str, inside: bool) -> bool:
    """Whether the end of `text` is inside a JSON string literal, given whether its start is."""
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and inside:
            escaped = True
        elif ch == '"':
            inside = not inside
    return inside
