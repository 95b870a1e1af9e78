"""Which route of a deployed HTTP API a request reaches. API Gateway picks the most specific match: a full match of
method and path (path variables `{x}` match one segment; a literal segment beats a variable at the first place
they differ; the method itself beats `ANY`), then a route with a greedy path variable `{x+}` (the longest fixed
part first), then the `$default` route; nothing matched is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]

DEFAULT_ROUTE = "$default"
_LITERAL, _VARIABLE = 0, 1


@dataclass
class RouteMatch:
    route: Doc
    path_parameters: dict[str, str]

    @property
    def key(self) -> str:
        return str(self.route.get("RouteKey", ""))

    @property
    def resource(self) -> str:
        """The route's path (`$default` for the default route)."""
        _, _, path = self.key.partition(" ")
        return path or self.key


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _match_path(template: list[str], segments: list[str]) -> tuple[tuple[int, ...], dict[str, str], bool] | None:
    """(specificity of each fixed segment, path parameters, greedy?) when `segments` fit the route's path."""
    params: dict[str, str] = {}
    kinds: list[int] = []
    for i, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            if i != len(template) - 1 or len(segments) <= i:
                return None  # a greedy variable is the last part and takes at least one segment
            params[part[1:-2]] = "/".join(segments[i:])
            return tuple(kinds), params, True
        if i >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = segments[i]
            kinds.append(_VARIABLE)
        elif part == segments[i]:
            kinds.append(_LITERAL)
        else:
            return None
    if len(template) != len(segments):
        return None
    return tuple(kinds), params, False


def match(routes: list[Doc], method: str, path: str) -> RouteMatch | None:
    """The route a request reaches, with its path parameters; None: 404 Not Found."""
    segments = _segments(path)
    method = method.upper()
    best: tuple[Any, ...] | None = None
    found: RouteMatch | None = None
    default: Doc | None = None
    for route in routes:
        key = str(route.get("RouteKey", ""))
        if key == DEFAULT_ROUTE:
            default = route
            continue
        verb, _, route_path = key.partition(" ")
        verb = verb.upper()
        if verb not in (method, "ANY") or not route_path.startswith("/"):
            continue
        fit = _match_path(_segments(route_path), segments)
        if fit is None:
            continue
        kinds, params, greedy = fit
        # Smaller ranks better: full matches before greedy ones, longer fixed parts, literals, then the exact method.
        rank = (greedy, -len(kinds), kinds, verb == "ANY")
        if best is None or rank < best:
            best, found = rank, RouteMatch(route, params)
    if found is not None:
        return found
    return RouteMatch(default, {}) if default is not None else None
