"""Prometheus metrics at `/_broker/metrics`: process-side instruments (`instruments.py`, summed over the worker
processes by prometheus_client's multiprocess mode), gauges read from the database (`gauges.py`, SQL in
`store.py`), the metric files' directory (`directory.py`) and the route (`route.py`)."""
