"""Who is calling: SigV4 verification (`sigv4.py`, `chunked.py`), the keys requests may be signed with (`keys.py`,
`temporary.py`), the refusals in each service's words (`errors.py`), access to /_broker/* and the console
(`admin.py`), and resource policies across accounts (`resource_policy.py`)."""
