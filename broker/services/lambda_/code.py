"""Deployment packages: checked on upload, stored content-addressed in the database (lambda_code, so that every
node can fetch them), unpacked on demand into a per-node cache directory keyed by the same hash."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import tempfile
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from broker.services.lambda_ import errors

# Lambda's quotas: 50 MB zipped in a direct upload, 250 MB unzipped (function and layers together).
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Package:
    sha: str  # hex: the storage key
    data: bytes
    unzipped_size: int

    @property
    def code_sha256(self) -> str:
        """What Lambda reports as CodeSha256: the base64 of the zip's SHA-256."""
        return base64.b64encode(bytes.fromhex(self.sha)).decode()


def check_zip(data: bytes) -> Package:
    """A package from an uploaded zip, or AWS's error for what is wrong with it. The declared unzipped size is
    checked before anything is inflated (a zip bomb is refused unread); reading never inflates an entry past its
    declared size, and every entry's CRC is verified."""
    if len(data) > MAX_ZIPPED:
        raise errors.zipped_too_large(MAX_ZIPPED)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            size = sum(info.file_size for info in zf.infolist())
            if size > MAX_UNZIPPED:
                raise errors.invalid_parameter(f"Unzipped size must be smaller than {MAX_UNZIPPED} bytes")
            if zf.testzip() is not None:
                raise errors.invalid_zip()
    # zlib.error: a corrupt deflate stream; RuntimeError: an encrypted entry; the others: a damaged archive or an
    # unsupported compression method.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, RuntimeError, EOFError, ValueError, OSError,
            NotImplementedError):  # fmt: skip
        raise errors.invalid_zip() from None
    return Package(hashlib.sha256(data).hexdigest(), data, size)


def code_sha256(sha_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha_hex)).decode()


class CodeCache:
    """Unpacked packages under <root>/<sha>/, made once per node (atomically: unpacked beside, then renamed)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def path(self, sha: str) -> Path | None:
        path = self.root / sha
        return path if path.is_dir() else None

    def unpack(self, sha: str, data: bytes) -> Path:
        target = self.root / sha
        if target.is_dir():
            return target
        with self._lock:
            if target.is_dir():
                return target
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=self.root))
            try:
                _extract(data, tmp)
                os.rename(tmp, target)
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
                if not target.is_dir():  # another process of this node won the rename: theirs is the same bytes
                    raise
        return target


def _extract(data: bytes, into: Path) -> None:
    """Unzip keeping the archive's Unix modes (a `bootstrap` must stay executable), refusing paths that leave
    the directory."""
    base = into.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            dest = (into / info.filename).resolve()
            if not dest.is_relative_to(base):
                continue
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            mode = (info.external_attr >> 16) & 0o777
            if stat.S_ISLNK(info.external_attr >> 16):
                target = zf.read(info).decode()
                os.symlink(target, dest)
                continue
            with zf.open(info) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
            os.chmod(dest, mode or 0o644)
