"""One package per AWS service: operations.py (one function per operation), store.py (its SQL), jobs.py."""
