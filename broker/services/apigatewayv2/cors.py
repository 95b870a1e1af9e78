"""CORS of HTTP APIs: with a CorsConfiguration on the API, API Gateway answers preflight OPTIONS requests itself
(204, before any route or authorizer), adds the configured access-control-* headers to every answer for an
allowed origin, and drops the ones an integration sent."""

from __future__ import annotations

import fnmatch
from typing import Any

Doc = dict[str, Any]
Headers = list[tuple[bytes, bytes]]


def _origin_allowed(config: Doc, origin: str) -> str | None:
    """The access-control-allow-origin value for `origin`, None when it is not allowed. Origins may hold one `*`
    wildcard (`https://*.example.com`); `*` alone allows any origin and is answered as `*`."""
    allowed = [str(o) for o in config.get("AllowOrigins") or []]
    if not origin:
        return None
    if "*" in allowed:
        return "*"
    for pattern in allowed:
        if pattern.lower() == origin.lower() or ("*" in pattern and fnmatch.fnmatchcase(origin, pattern)):
            return origin
    return None


def _joined(values: list[Any]) -> bytes:
    return ",".join(str(v) for v in values).encode("latin-1", "replace")


def is_preflight(config: Doc | None, method: str, headers: dict[str, str]) -> bool:
    """A CORS preflight (an OPTIONS request with Origin and Access-Control-Request-Method) of an API with CORS."""
    return bool(config) and method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


def preflight(config: Doc, headers: dict[str, str]) -> tuple[int, Headers, bytes]:
    """API Gateway's answer to a preflight request: 204, with the CORS headers only when the origin, the method
    and the headers asked for are all allowed."""
    out: Headers = []
    origin = _origin_allowed(config, headers.get("origin", ""))
    methods = [str(m).upper() for m in config.get("AllowMethods") or []]
    wanted = headers.get("access-control-request-method", "").strip().upper()
    allowed_headers = [str(h).lower() for h in config.get("AllowHeaders") or []]
    asked = [h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",") if h.strip()]
    method_ok = "*" in methods or wanted in methods
    headers_ok = "*" in allowed_headers or all(h in allowed_headers for h in asked)
    if origin is not None and method_ok and headers_ok:
        out.append((b"access-control-allow-origin", origin.encode("latin-1", "replace")))
        if config.get("AllowCredentials"):
            out.append((b"access-control-allow-credentials", b"true"))
        out.append((b"access-control-allow-methods", _joined(config.get("AllowMethods") or [])))
        if allowed_headers:
            out.append((b"access-control-allow-headers", _joined(config.get("AllowHeaders") or [])))
        if config.get("MaxAge") is not None:
            out.append((b"access-control-max-age", str(config["MaxAge"]).encode()))
    return 204, out, b""


def decorate(config: Doc | None, origin: str, headers: Headers) -> Headers:
    """An answer's headers with the API's CORS headers (replacing an integration's own) for an allowed origin."""
    if not config:
        return headers
    kept = [(k, v) for k, v in headers if not k.lower().startswith(b"access-control-")]
    allowed = _origin_allowed(config, origin)
    if allowed is None:
        return kept
    kept.append((b"access-control-allow-origin", allowed.encode("latin-1", "replace")))
    if config.get("AllowCredentials"):
        kept.append((b"access-control-allow-credentials", b"true"))
    if config.get("ExposeHeaders"):
        kept.append((b"access-control-expose-headers", _joined(config["ExposeHeaders"])))
    return kept
