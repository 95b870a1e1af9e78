"""Broker's own HTTP API under /_broker/: health, test clock, reset, jobs."""
