"""The web console's aiohttp application: sign-in, sessions, CSRF and Origin checks, security headers; the pages
are in `bot.web.pages`. No state lives in memory, so several processes behind a proxy serve it alike."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.core.i18n import N_
from bot.web import pages
from bot.web.background import background_ctx
from bot.web.contest_page import PAGE_PATH
from bot.web.files import FILE_PATH
from bot.web.page_server import PageDeps, make_page_app
from bot.web.render import DEPS, NOT_FOUND, SESSION, USER, WebDeps, page, refusal
from bot.web.service import SESSION_TTL, SIGN_IN_PATH, csrf_ok, digest, redeem, session_user

log = logging.getLogger(__name__)

COOKIE = "antt_sid"
MAX_BODY = 2 * 1024 * 1024  # forms and uploads of a school (a roster, a contest's YAML)
PUBLIC = {SIGN_IN_PATH, "/static/style.css", "/favicon.ico"}

NOT_OURS = N_("Yêu cầu này không đến từ trang quản lý nên không được thực hiện.")
EXPIRED_FORM = N_("Phiên làm việc đã hết hạn hoặc biểu mẫu đã cũ. Thầy/cô tải lại trang rồi làm lại nhé.")
LINK_SPENT_TITLE = N_("Đường dẫn không dùng được")
LINK_SPENT = N_(
    "Đường dẫn này đã được dùng, đã hết hạn hoặc không đúng. Thầy/cô gõ /web trong chat để nhận đường dẫn mới nhé."
)

TOO_LARGE = N_("Tệp hoặc biểu mẫu gửi lên quá lớn (tối đa 2 MB), nên chưa có gì thay đổi.")
FAILED = N_("Có lỗi khi làm việc này nên chưa có gì thay đổi. Thầy/cô thử lại sau ít phút nhé.")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _origin_ok(request: web.Request, base_url: str) -> bool:
    """A form may come only from our own pages: Origin (or, lacking it, Referer) names our address."""
    sent = request.headers.get("Origin") or request.headers.get("Referer")
    if not sent:
        return False
    ours = urlsplit(base_url)
    theirs = urlsplit(sent)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc) or theirs.netloc == request.host


@web.middleware
async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
    # The contest page has its own, leaner middleware (bot.web.page_server).
    if request.path == PAGE_PATH or request.path.startswith(PAGE_PATH + "/"):
        return await handler(request)
    deps = request.app[DEPS]
    now = deps.clock()
    async with deps.uow_factory() as uow:
        found = await session_user(uow, request.cookies.get(COOKIE), now)
    if found is not None:
        request[USER], request[SESSION] = found
    if request.method not in ("GET", "HEAD"):
        if not _origin_ok(request, deps.base_url):
            return refusal(request, 403, NOT_OURS)
        if request.path != SIGN_IN_PATH:
            try:
                form = (
                    await request.post()
                    if request.content_type.startswith(("application/x-www-form", "multipart/"))
                    else {}
                )
            except web.HTTPRequestEntityTooLarge:
                return refusal(request, 413, TOO_LARGE)
            sent = request.headers.get("X-CSRF-Token") or form.get("csrf")
            if found is None or not csrf_ok(found[1], sent if isinstance(sent, str) else None):
                return refusal(request, 403, EXPIRED_FORM)
    public = request.path in PUBLIC or request.path.startswith(("/static/", FILE_PATH + "/"))
    if found is None and not public:
        return page(request, "signed_out.html", status=401, signed_out=False)
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = refusal(request, 404, NOT_FOUND)
    except web.HTTPMethodNotAllowed:
        response = refusal(request, 405, NOT_FOUND)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("web console: %s %s failed", request.method, request.path.split("/")[1])
        response = refusal(request, 500, FAILED)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"  # the sign-in token never leaves for another site
    response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
    return response


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    """GET only shows a button: link pre-fetchers and previews must not spend the link."""
    token = request.query.get("t", "")
    return page(request, "sign_in.html", token=token)


async def sign_in(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    form = await request.post()
    token = form.get("t")
    now = deps.clock()
    async with deps.uow_factory() as uow:
        opened = await redeem(uow, token if isinstance(token, str) else "", now)
        await uow.commit()
    if opened is None:
        return refusal(request, 400, LINK_SPENT, LINK_SPENT_TITLE)
    sid, _csrf = opened
    response = web.Response(status=303, headers={"Location": "/"})
    response.set_cookie(
        COOKIE,
        sid,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=urlsplit(deps.base_url).scheme == "https",
        path="/",
    )
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    sid = request.cookies.get(COOKIE)
    if sid:
        async with deps.uow_factory() as uow:
            await uow.web.end_session(digest(sid))
            await uow.commit()
    request.pop(USER, None)
    request.pop(SESSION, None)
    response = page(request, "signed_out.html", signed_out=True)
    response.del_cookie(COOKIE, path="/")
    return response


async def to_page(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(PAGE_PATH + "/")


def make_web_app(deps: WebDeps) -> web.Application:
    app = web.Application(middlewares=[security], client_max_size=MAX_BODY)
    app[DEPS] = deps
    app.cleanup_ctx.append(background_ctx)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_get(SIGN_IN_PATH, sign_in_page)
    app.router.add_post(SIGN_IN_PATH, sign_in)
    app.router.add_post("/dang-xuat", sign_out)
    app.router.add_static("/static", str(Path(__file__).parent / "static"))
    pages.add_routes(app)
    app.router.add_get(PAGE_PATH, to_page)
    app.add_subapp(PAGE_PATH, make_page_app(PageDeps(deps, deps.check_init_data)))
    return app


async def start_web(deps: WebDeps, host: str, port: int) -> web.AppRunner:
    """Listening on host:port (OSError when the port is taken); `cleanup()` the runner to stop."""
    runner = web.AppRunner(make_web_app(deps), access_log=None)  # access logs would hold sign-in tokens
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    log.info("web console on http://%s:%s", host, port)
    return runner


async def run_web(deps: WebDeps, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve until `stop` is set."""
    runner = await start_web(deps, host, port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
