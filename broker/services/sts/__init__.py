"""AWS STS: who a caller or a key is, and temporary credentials (AssumeRole, GetSessionToken)."""
