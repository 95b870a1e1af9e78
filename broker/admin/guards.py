"""Checks shared by the admin routes of the runtime and of the services."""

from __future__ import annotations

from fastapi import HTTPException

from broker.config import Settings


def require_test_mode(settings: Settings) -> None:
    """Test endpoints (clock, reset, jobs, state only a phone's owner could change) exist only in test mode."""
    if not settings.test_mode:
        raise HTTPException(404, "test endpoints are disabled (set test_mode = true)")
