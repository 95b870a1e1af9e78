"""Database engines, the schema, and the per-process writer that group-commits requests."""
