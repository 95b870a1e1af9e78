"""Generic, spec-driven wire protocols. Nothing in here knows any particular service."""
