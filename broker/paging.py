"""Pagination tokens (NextToken): the state of a listing as URL-safe base64 JSON. Services decide what the state
holds and which error a token that is not theirs gets."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


def encode(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def decode(token: str) -> dict[str, Any] | None:
    """The state in a token, or None when the token is not one we made (or was tampered with)."""
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, binascii.Error):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    return state if isinstance(state, dict) else None


def after_token(after: str | int) -> str:
    """A token that continues a listing after `after` (a name, an ARN, an id)."""
    return encode({"after": after})


def after_of(token: str) -> object:
    """What an `after_token` continues after, or None when the token is not one (the caller checks the type and
    answers its own error)."""
    return (decode(token) or {}).get("after")
