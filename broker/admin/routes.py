"""FastAPI app for /_broker/*: health for operators, clock/reset/jobs for test suites (test_mode only)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel
from sqlalchemy import text

from broker import __version__, clock
from broker.jobs import leases
from broker.services.sns import mobile as sns_mobile
from broker.services.sns import store as sns_store


class SmsChange(BaseModel):
    account: str = ""
    region: str = ""
    opt_out: str = ""  # a phone number to opt out of SMS
    in_sandbox: bool | None = None


class ClockChange(BaseModel):
    offset_seconds: float | None = None
    advance_seconds: float | None = None


def build_admin(runtime) -> FastAPI:  # noqa: ANN001
    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        await runtime.start()
        yield
        await runtime.stop()

    app = FastAPI(
        title="broker admin",
        version=__version__,
        lifespan=lifespan,
        docs_url="/_broker/docs",
        openapi_url="/_broker/openapi.json",
        redoc_url=None,
    )

    def _test_mode() -> None:
        if not runtime.settings.test_mode:
            raise HTTPException(404, "test endpoints are disabled (set test_mode = true)")

    @app.get("/_broker/health")
    async def health(response: Response) -> dict:
        try:
            await runtime.db.read(lambda conn: conn.execute(text("SELECT 1")).scalar())
            db_ok = True
        except Exception:  # noqa: BLE001
            db_ok = False
            response.status_code = 503
        return {
            "status": "ok" if db_ok else "degraded",
            "database": "reachable" if db_ok else "unreachable",
            "backend": "postgresql" if runtime.settings.is_postgres else "sqlite",
            "version": __version__,
            "uptime_seconds": round(time.time() - runtime.started_at, 3),
            "pid": runtime.pid,
            "waiting_long_polls": runtime.notifier.waiting(),
        }

    @app.get("/_broker/clock")
    async def get_clock() -> dict:
        _test_mode()
        return {"now_ms": clock.now_ms(), "offset_ms": clock.offset_ms()}

    @app.post("/_broker/clock")
    async def set_clock(change: ClockChange) -> dict:
        _test_mode()
        if change.offset_seconds is not None:
            offset = int(change.offset_seconds * 1000)
        elif change.advance_seconds is not None:
            offset = clock.offset_ms() + int(change.advance_seconds * 1000)
        else:
            raise HTTPException(400, "give offset_seconds or advance_seconds")
        await runtime.set_clock_offset(offset)
        return {"now_ms": clock.now_ms(), "offset_ms": clock.offset_ms()}

    @app.post("/_broker/reset")
    async def reset() -> dict:
        _test_mode()
        await runtime.reset()
        return {"reset": True}

    @app.post("/_broker/jobs/{name}/run")
    async def run_job(name: str) -> dict:
        _test_mode()
        if name not in runtime.jobs.jobs:
            raise HTTPException(404, f"no job {name}")
        ran = await asyncio.get_running_loop().run_in_executor(None, runtime.jobs.run, name)
        return {"job": name, "ran": ran, "owner": runtime.jobs.owner}

    @app.get("/_broker/sns/SimpleNotificationService-{cert_id}.pem")
    async def sns_certificate(cert_id: str) -> Response:
        signer = runtime.sns_signer
        if cert_id != signer.cert_id:
            raise HTTPException(404, "no such certificate")
        return Response(signer.cert_pem, media_type="application/x-pem-file")

    @app.get("/_broker/sns/outbox")
    async def sns_outbox(
        topic_arn: str = "",
        subscription_arn: str = "",
        protocol: str = "",
        endpoint: str = "",
        account: str = "",
        region: str = "",
        after: int = 0,
        limit: int = 1000,
    ) -> dict:
        """What email, email-json, SMS and mobile push deliveries would have sent, oldest first."""
        filters = {
            "topic_arn": topic_arn,
            "subscription_arn": subscription_arn,
            "protocol": protocol,
            "endpoint": endpoint,
            "account": account,
            "region": region,
        }
        rows = await runtime.db.read(sns_store.outbox, filters, after, min(max(limit, 1), 10_000))
        return {"messages": [{**r, "message": json.loads(r["message"])} for r in rows]}

    @app.delete("/_broker/sns/outbox")
    async def clear_sns_outbox() -> dict:
        return {"deleted": await runtime.db.write(sns_store.clear_outbox)}

    @app.post("/_broker/sns/sms")
    async def sns_sms_state(change: SmsChange) -> dict:
        """What only a phone's owner (STOP) or AWS support can change: opt a number out, the SMS sandbox."""
        _test_mode()
        account = change.account or runtime.settings.default_account
        region = change.region or runtime.settings.default_region
        if change.opt_out:
            if not re.fullmatch(r"\+?[0-9]{7,15}", change.opt_out):
                raise HTTPException(400, "opt_out must be a phone number in E.164 form")
            await runtime.db.write(sns_mobile.opt_out, account, region, change.opt_out)
        if change.in_sandbox is not None:
            await runtime.db.write(sns_mobile.set_sms_sandbox, account, region, change.in_sandbox)
        return {"account": account, "region": region}

    @app.get("/_broker/leases")
    async def list_leases() -> dict:
        return {"owner": runtime.jobs.owner, "leases": await runtime.db.read(leases.holders)}

    @app.get("/_broker/resources")
    async def resources() -> dict:
        """What this worker process holds, for leak tests and soak reports (test_mode only)."""
        _test_mode()
        return {
            "pid": runtime.pid,
            "tasks": len(asyncio.all_tasks()),
            "fds": len(os.listdir("/proc/self/fd")),
            "threads": threading.active_count(),
            "rss_kb": _rss_kb(),
            "waiting": runtime.notifier.waiting(),
        }

    return app


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
