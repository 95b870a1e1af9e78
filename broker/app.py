"""Builds the ASGI app: AWS requests go to the thin gateway, /_broker/* and lifespan to FastAPI."""

from __future__ import annotations

import logging

from broker.admin.routes import build_admin
from broker.config import Settings, settings_from_resolved_env
from broker.gateway import Gateway
from broker.runtime import Runtime


def create_app(settings: Settings | None = None):  # noqa: ANN201
    settings = settings or settings_from_resolved_env()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(process)d %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    runtime = Runtime(settings)
    admin = build_admin(runtime)
    gateway = Gateway(runtime, runtime.specs)

    async def app(scope, receive, send):  # noqa: ANN001, ANN202
        if scope["type"] == "http" and not scope["path"].startswith("/_broker"):
            await gateway(scope, receive, send)
        else:
            await admin(scope, receive, send)

    app.runtime = runtime  # type: ignore[attr-defined]
    return app
