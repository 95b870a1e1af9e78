"""Amazon CloudWatch Logs: log groups, log streams, log events, filter patterns, retention, tags."""
