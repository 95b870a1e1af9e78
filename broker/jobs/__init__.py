"""Periodic work: APScheduler in every process, each cluster-wide job guarded by a lease."""
