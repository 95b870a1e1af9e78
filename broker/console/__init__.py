"""The web console at /_broker/console: server-rendered pages of what the broker stores, and actions that run the
services' own operations (see docs/operations.md, "Web console")."""
