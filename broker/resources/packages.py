"""A declared function's deployment package: a .zip file as it is, or a directory zipped the same way every
time (sorted names, fixed timestamps, file modes kept), so an unchanged directory gives an unchanged CodeSha256."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

_SKIPPED_DIRS = {"__pycache__", ".git"}


class PackageError(Exception):
    pass


def package(code: str) -> bytes:
    path = Path(code).expanduser()
    if path.is_dir():
        return _zip_dir(path)
    if path.is_file() and path.suffix.lower() == ".zip":
        return path.read_bytes()
    if path.exists():
        raise PackageError(f"code {code!r} is neither a directory nor a .zip file")
    raise PackageError(f"code {code!r} does not exist (relative paths start from {Path.cwd()})")


def _zip_dir(root: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = f.relative_to(root)
            if _SKIPPED_DIRS.intersection(rel.parts[:-1]) or f.suffix == ".pyc":
                continue
            info = zipfile.ZipInfo(rel.as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((f.stat().st_mode & 0o777) | 0o100000) << 16  # a bootstrap stays executable
            z.writestr(info, f.read_bytes())
    return buf.getvalue()
