"""Shared by the Lambda tests: deployment packages built in memory, and a role ARN."""

from __future__ import annotations

import io
import zipfile

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def zip_of(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    """A zip holding `files` (name -> content); `modes` sets Unix modes (a bootstrap must be executable)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            zf.writestr(info, content)
    return buf.getvalue()


def python_zip(source: str, module: str = "handler") -> bytes:
    return zip_of({f"{module}.py": source})


ECHO = """
import json, os, sys

def handler(event, context):
    return {"event": event, "version": context.function_version, "python": sys.version.split()[0],
            "request_id": context.aws_request_id, "memory": context.memory_limit_in_mb}
"""


def create(lam, name: str, source: str = ECHO, runtime: str = "python3.12", **kw) -> dict:
    return lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=kw.pop("Handler", "handler.handler"),
        Code={"ZipFile": kw.pop("zip_bytes", None) or python_zip(source)},
        **kw,
    )
