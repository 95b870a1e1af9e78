"""AWS STS: only what SDKs and tools call to learn who they are."""
