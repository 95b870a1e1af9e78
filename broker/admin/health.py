"""What /_broker/health says beyond "the database answers": each served service and its state, the periodic jobs
and who holds their leases, and the Lambda runtimes this machine can run."""

from __future__ import annotations

from typing import Any

from broker.config import Settings
from broker.protocol.spec import ServiceSpec
from broker.runtime import Runtime


def services(runtime: Runtime) -> dict[str, Any]:
    """Every service of the registry: the protocols and signing names it answers. A worker answers health only
    once every service started, so each is "running" unless the configuration turned it off."""
    out: dict[str, Any] = {}
    for service in runtime.services:
        specs = service.specs()
        entry: dict[str, Any] = {
            "state": "running",
            "signing_names": sorted({spec.name for spec in specs}),
            "protocols": sorted({p for spec in specs for p in _protocols(spec)}),
        }
        if service.name == "lambda":
            if not runtime.settings.lambda_enabled:
                entry["state"] = "running (control plane only: lambda_enabled = false, no code runs)"
            entry["runtimes"] = lambda_runtimes(runtime.settings)
        out[service.name] = entry
    return out


def _protocols(spec: ServiceSpec) -> set[str]:
    """The model's protocols, and those the spec adds: the query protocol where it has its XML names (SQS, whose
    model is JSON-only), awsJson where it dispatches an X-Amz-Target (STS)."""
    metadata = spec.model.metadata
    found = set(metadata.get("protocols") or [metadata.get("protocol", "")])
    if spec.xmlns:
        found.add("query")
    if spec.target_prefix:
        found.add("json")
    return found


def jobs(runtime: Runtime, held: list[dict[str, Any]]) -> dict[str, Any]:
    """Each periodic job of this process, and which process holds its lease now (leased jobs run in one)."""
    holders = {row["name"]: row for row in held}
    out: dict[str, Any] = {}
    for name, job in sorted(runtime.jobs.jobs.items()):
        entry: dict[str, Any] = {"interval_seconds": job.interval, "leased": job.leased}
        lease = holders.get(f"job:{name}")
        if job.leased:
            live = lease is not None and lease["live"]
            entry["lease_holder"] = lease["owner"] if live and lease is not None else None
            entry["held_here"] = live and lease is not None and lease["owner"] == runtime.jobs.owner
        out[name] = entry
    return out


def lambda_runtimes(settings: Settings) -> dict[str, str]:
    """Runtime -> what runs it here, or why it runs differently (see `broker lambda install-runtimes`)."""
    from broker.services.lambda_.execution import interpreters

    out: dict[str, str] = {}
    for runtime in interpreters.PYTHON_RUNTIMES:
        choice = interpreters.choose_python(settings, runtime)
        out[runtime] = choice.note or choice.executable
    node = interpreters.node_binary(settings.lambda_node_binary)
    for runtime in interpreters.NODE_RUNTIMES:
        out[runtime] = node or f"unavailable: no {settings.lambda_node_binary!r} program"
    for runtime in interpreters.PROVIDED_RUNTIMES:
        out[runtime] = "the function's own bootstrap"
    return out
