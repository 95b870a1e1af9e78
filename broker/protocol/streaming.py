"""An operation result that is sent while it is produced (an event stream), instead of one rendered body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass
class StreamingResult:
    """The gateway sends `chunks` as they come (chunked transfer) and closes the iterator when the client goes."""

    content_type: str
    chunks: AsyncIterator[bytes]
    error_chunk: bytes = b""  # sent (as the last chunk) when producing fails midway
