"""Builds the ASGI app: AWS requests go to the thin gateway, /_broker/* and lifespan to FastAPI."""

from __future__ import annotations

import logging

from broker.admin.routes import build_admin
from broker.config import Settings, settings_from_resolved_env
from broker.console.browser import is_browser_visit
from broker.console.browser import redirect as browser_redirect
from broker.gateway import Gateway, Receive, Scope, Send
from broker.runtime import Runtime
from broker.server_tick import install as quiet_server_loop


class BrokerApp:
    """The ASGI app of one worker process."""

    def __init__(self, settings: Settings) -> None:
        self.runtime = Runtime(settings)
        self.admin = build_admin(self.runtime)
        self.gateway = Gateway(self.runtime, self.runtime.specs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.runtime.data_planes:
            host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
            for plane in self.runtime.data_planes:
                if plane.claims(host, scope["path"]):
                    await plane(scope, receive, send)
                    return
        if scope["type"] == "http" and not scope["path"].startswith("/_broker"):
            if is_browser_visit(scope):
                await browser_redirect(send)
                return
            await self.gateway(scope, receive, send)
        else:
            await self.admin(scope, receive, send)


def create_app(settings: Settings | None = None) -> BrokerApp:
    settings = settings or settings_from_resolved_env()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(process)d %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    quiet_server_loop()
    return BrokerApp(settings)
