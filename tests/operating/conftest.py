"""Servers of the operating tests start with a longer deadline: a start that creates declared resources does that
work before it listens."""

from __future__ import annotations

START_TIMEOUT = 240.0
