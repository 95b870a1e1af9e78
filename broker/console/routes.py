"""Routes of the web console under /_broker/console, and the offline OpenAPI page of /_broker/*.

Pages are rendered on the server (Jinja2); `static/console.js` polls each page's `/live` fragment every 2 s (not
while the tab is hidden; a list is paged, `?p=`), reads a Lambda function's details (`/lambda/detail`) only while
they are open, and posts action forms to `/actions/<name>`, which answers JSON (always 200: an AWS error is a result
to show, not a failed request). Every request runs as its session's principal (`access.Session`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from broker import clock
from broker.console import access, store
from broker.console.actions import ACTIONS, plain
from broker.console.operations import Operations
from broker.console.paging import page_number
from broker.console.views import apigateway, kinesis, lambda_, others, pending, sns, sqs
from broker.context import RequestContext
from broker.errors import ServiceError, internal_failure
from broker.runtime import Runtime

log = logging.getLogger("broker.console")

PREFIX = "/_broker/console"
COOKIE_PATH = "/_broker"
HERE = Path(__file__).parent
STATIC = HERE / "static"
_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")

# What a page shows: the viewed account and region, the operations, the page of its list (`?p=`, from 1).
Gather = Callable[[RequestContext, Operations, int], Awaitable[dict[str, Any]]]


async def _pending(ctx: RequestContext, _ops: Operations, _page: int) -> dict[str, Any]:
    return await pending.gather(ctx)


async def _others(ctx: RequestContext, ops: Operations, _page: int) -> dict[str, Any]:
    return await others.gather(ctx, ops)


# Page name -> (title, what it shows).
PAGES: dict[str, tuple[str, Gather]] = {
    "sqs": ("SQS", sqs.gather),
    "sns": ("SNS", sns.gather),
    "kinesis": ("Kinesis", kinesis.gather),
    "lambda": ("Lambda", lambda_.gather),
    "apigateway": ("API Gateway", apigateway.gather),
    "pending": ("Pending work", _pending),
    "others": ("EventBridge, Logs, IAM", _others),
}


def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["ms"] = lambda ms: clock.to_datetime(int(ms)).strftime("%Y-%m-%d %H:%M:%S") if ms else ""
    return env


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    ops = Operations(runtime.specs)
    templates = _templates()
    settings = runtime.settings

    def render(name: str, **values: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(prefix=PREFIX, **values))

    async def scope(request: Request) -> tuple[RequestContext, access.Viewer] | Response:
        """The viewed account/region as a request context acting as the session's principal, or the response that
        refuses it."""
        session = await access.session(runtime, request)
        if session is None:
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{PREFIX}/login?{urlencode({'next': here})}", 303)
        viewer = session.viewer
        account = request.query_params.get("account") or viewer.account or settings.default_account
        region = request.query_params.get("region") or settings.default_region
        if not _ACCOUNT.fullmatch(account) or not _REGION.fullmatch(region):
            raise HTTPException(400, "account must be 12 digits and region a region name")
        if viewer.account is not None and account != viewer.account:
            raise HTTPException(403, f"this console session may only view account {viewer.account}")
        host = request.headers.get("host") or f"{settings.host}:{settings.port}"
        return RequestContext(
            env=runtime,
            account=account,
            region=region,
            host=host,
            authenticated=settings.sigv4,
            identity=session.identity_in(account),
        ), viewer

    async def choices(ctx: RequestContext, viewer: access.Viewer) -> list[tuple[str, str]]:
        pairs = set(await runtime.db.read(store.accounts))
        pairs.add((settings.default_account, settings.default_region))
        pairs.add((ctx.account, ctx.region))
        if viewer.account is not None:
            pairs = {p for p in pairs if p[0] == viewer.account}
        return sorted(pairs)

    @router.get("", include_in_schema=False)
    async def root_redirect(request: Request) -> Response:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{PREFIX}/{query}", 307)

    @router.get("/")
    async def overview(request: Request) -> Response:
        scoped = await scope(request)
        if isinstance(scoped, Response):
            return scoped
        ctx, viewer = scoped
        return render(
            "overview.html",
            ctx=ctx,
            pages=PAGES,
            page="",
            choices=await choices(ctx, viewer),
            auth=settings.auth,
        )

    @router.get("/static/{path:path}")
    async def static(path: str) -> Response:
        target = (STATIC / path).resolve()
        if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
            raise HTTPException(404, "not found")
        return FileResponse(target, headers={"cache-control": "max-age=3600"})

    @router.get("/login")
    async def login_page(request: Request) -> Response:
        return render("login.html", next=_safe_next(request.query_params.get("next")), error="", page="login")

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        target = _safe_next(form.get("next"))
        cookie = await access.login(runtime, form)
        if cookie is None:
            # The form again, answered 200 as login pages are (a 401 would need an HTTP authentication scheme).
            return render("login.html", next=target, error="Those credentials are not valid.", page="login")
        response = RedirectResponse(target, 303)
        # For all of /_broker: an admin session also opens the OpenAPI page and the other admin routes.
        response.set_cookie(access.COOKIE, cookie, httponly=True, samesite="strict", path=COOKIE_PATH)
        return response

    @router.post("/logout")
    async def logout() -> Response:
        response = RedirectResponse(f"{PREFIX}/login", 303)
        response.delete_cookie(access.COOKIE, path=COOKIE_PATH)
        return response

    @router.post("/actions/{name}")
    async def act(name: str, request: Request) -> Response:
        scoped = await scope(request)
        if isinstance(scoped, Response):
            return JSONResponse({"ok": False, "code": "NotLoggedIn", "message": "log in again"}, 401)
        ctx = scoped[0]
        action = ACTIONS.get(name)
        if action is None:
            raise HTTPException(404, f"no action {name}")
        _same_origin(request)
        form = await _form(request)
        try:
            result = await action(ctx, ops, form)
        except ServiceError as e:
            return JSONResponse({"ok": False, "code": e.code, "message": e.message})
        except Exception:  # a bug, never bad input: logged, shown as the gateway answers it
            log.exception("console action %s failed", name)
            failure = internal_failure()
            return JSONResponse({"ok": False, "code": failure.code, "message": failure.message})
        return JSONResponse({"ok": True, "result": plain(result)})

    @router.get("/lambda/detail")
    async def lambda_detail(request: Request) -> Response:
        """A function's versions, aliases and logs: read only while its details are open on the Lambda page."""
        scoped = await scope(request)
        if isinstance(scoped, Response):
            return scoped
        found = await lambda_.detail(scoped[0], ops, request.query_params.get("name", ""))
        if found is None:
            raise HTTPException(404, "no such function")
        return render("lambda_detail.html", d=found)

    @router.get("/{page}")
    async def page_view(page: str, request: Request) -> Response:
        return await _page(page, request, live=False)

    @router.get("/{page}/live")
    async def live_view(page: str, request: Request) -> Response:
        return await _page(page, request, live=True)

    async def _page(page: str, request: Request, live: bool) -> Response:
        if page not in PAGES:
            raise HTTPException(404, f"no console page {page}")
        scoped = await scope(request)
        if isinstance(scoped, Response):
            return scoped
        ctx, viewer = scoped
        title, gather = PAGES[page]
        data = await gather(ctx, ops, page_number(request.query_params.get("p")))
        values = dict(ctx=ctx, data=data, page=page, title=title, pages=PAGES, auth=settings.auth)
        if live:
            return render(f"{page}_live.html", **values)
        return render(f"{page}.html", choices=await choices(ctx, viewer), **values)

    return router


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form (what the console's forms and script send); the last value of a repeated field."""
    body = await request.body()
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise HTTPException(400, "the form is not UTF-8") from None


def _same_origin(request: Request) -> None:
    """Actions come from the console's own pages: a browser posting from another site's page (which it marks with
    that Origin) is refused, so a page elsewhere cannot drive an open (auth = "none") console."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(403, "cross-origin console actions are refused")


def _safe_next(target: str | None) -> str:
    """Only a path of the console itself: never an open redirect."""
    if target and target.startswith(PREFIX) and not target.startswith("//"):
        return target
    return f"{PREFIX}/"


def docs_router(openapi_url: str, title: str) -> APIRouter:
    """/_broker/docs: Swagger UI from the pinned copy in static/swagger (no CDN: it works offline)."""
    router = APIRouter(include_in_schema=False)
    base = f"{PREFIX}/static/swagger"

    @router.get("/_broker/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{base}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}/swagger-ui.css",
            swagger_favicon_url=f"{base}/favicon-32x32.png",
        )

    return router
