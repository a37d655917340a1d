"""The contest page as its own aiohttp sub-application under /thi, on the web console's server: a lean middleware
(a signed session checked without the database, a per-account rate limit, the Origin check, security headers),
one unit of work per request, and a small JSON API for the page's script."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.web import contest_page as cp
from bot.web import live_page, page_batch
from bot.web.render import DEPS, WebDeps

log = logging.getLogger(__name__)

COOKIE = "antt_thi"
VI = "vi"  # the page speaks Vietnamese before it knows the student
MAX_BODY = 16 * 1024
RATE_PER_SECOND = 5.0  # an account's requests to the API: a steady pace, with bursts (a queue sent again)
RATE_BURST = 40
PAGE = web.RequestKey("page_session", tuple)  # (user id, round id) of the signed session
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self' https://web.telegram.org"  # Telegram Web opens a Mini App in a frame
)

NOT_OURS = N_("Yêu cầu này không đến từ trang làm bài nên không được thực hiện.")
TOO_FAST = N_("Em thao tác nhanh quá. Em chờ vài giây rồi thử lại nhé.")
SIGNED_OUT = N_("Em mở trang làm bài từ chat với bot nhé: gõ “thi” rồi chọn “Làm bài trên trang web”.")
LINK_SPENT = N_(
    "Đường dẫn này đã được dùng, đã hết hạn hoặc không đúng. Em gõ “thi” trong chat để nhận đường dẫn mới nhé."
)
FAILED = N_("Có lỗi khi lưu. Em thử lại sau ít phút nhé; câu trả lời của em vẫn được giữ trên máy.")
BAD_REQUEST = N_("Yêu cầu không hợp lệ.")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RateLimit:
    """A token bucket per account, in this process (a proxy spreading one student over several processes gives
    them a little more; the first-answer rule does not depend on it)."""

    rate: float = RATE_PER_SECOND
    burst: float = RATE_BURST
    buckets: OrderedDict[int, tuple[float, float]] = field(default_factory=OrderedDict)

    def allow(self, user_id: int, now: float) -> bool:
        tokens, at = self.buckets.pop(user_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        allowed = tokens >= 1
        self.buckets[user_id] = (tokens - 1 if allowed else tokens, now)
        while len(self.buckets) > 100_000:
            self.buckets.popitem(last=False)
        return allowed


@dataclass
class PageDeps:
    web: WebDeps
    # Telegram Mini App logins (None: the Telegram channel has no token here).
    check_init_data: cp.InitDataCheck | None = None
    limit: RateLimit = field(default_factory=RateLimit)
    signer: cp.SessionSigner | None = None
    live: live_page.LiveCache = field(default_factory=live_page.LiveCache)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    answers: page_batch.AnswerGroups = field(init=False)

    def __post_init__(self) -> None:
        self.answers = page_batch.AnswerGroups(self.web.uow_factory, self.web.content, self.web.writers)

    async def sessions(self) -> cp.SessionSigner:
        """The signer, with the key every process shares (made by the first one, kept in the database)."""
        if self.signer is None:
            async with self.lock:
                if self.signer is None:
                    async with self.web.uow_factory() as uow:
                        key = await uow.page.secret(secrets.token_urlsafe(48), self.web.clock())
                        await uow.commit()
                    self.signer = cp.SessionSigner(key.encode())
        return self.signer


PAGE_DEPS = web.AppKey("page_deps", PageDeps)


def _locale_text(deps: PageDeps, message: str, **fields: Any) -> str:
    text = deps.web.i18n.gettext(VI, message)
    return text.format(**fields) if fields else text


def _error(deps: PageDeps, status: int, message: str, **fields: Any) -> web.Response:
    return web.json_response({"error": _locale_text(deps, message, **fields)}, status=status)


def _origin_ok(request: web.Request, base_url: str) -> bool:
    sent = request.headers.get("Origin") or request.headers.get("Referer")
    if not sent:
        return False
    ours, theirs = urlsplit(base_url), urlsplit(sent)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc) or theirs.netloc == request.host


@web.middleware
async def lean(request: web.Request, handler: Handler) -> web.StreamResponse:
    deps = request.app[PAGE_DEPS]
    signer = await deps.sessions()
    found = signer.verify(request.cookies.get(COOKIE), deps.web.clock())
    if found is not None:
        request[PAGE] = found
    api = request.path.startswith(cp.PAGE_PATH + "/api/")
    if request.method not in ("GET", "HEAD"):
        if not _origin_ok(request, deps.web.base_url):
            return _error(deps, 403, NOT_OURS)
        if api and request.content_type != "application/json":
            return _error(deps, 415, BAD_REQUEST)
    if api and request.path != cp.PAGE_PATH + "/api/telegram":
        if found is None:
            return _error(deps, 401, SIGNED_OUT)
        if not deps.limit.allow(found[0], time.monotonic()):
            response: web.StreamResponse = _error(deps, 429, TOO_FAST)
            response.headers["Retry-After"] = "2"
            return _headers(response)
    try:
        response = await handler(request)
    except cp.PageRefusal as refusal:
        response = _error(deps, refusal.status, refusal.message, **refusal.fields)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("contest page: %s %s failed", request.method, request.path.rsplit("/", 1)[-1])
        response = _error(deps, 500, FAILED)
    return _headers(response)


def _headers(response: web.StreamResponse) -> web.StreamResponse:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"  # the entry token never leaves for another site
    response.headers["Content-Security-Policy"] = CSP
    return response


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise cp.PageRefusal(BAD_REQUEST, 400) from None
    if not isinstance(body, dict):
        raise cp.PageRefusal(BAD_REQUEST, 400)
    return body


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not -1 <= value < 2**31:
        raise cp.PageRefusal(BAD_REQUEST, 400)
    return value


def _translate(deps: PageDeps, user: UserRec | None) -> Callable[[str], str]:
    locale = user.locale if user is not None else "vi"
    return lambda message: deps.web.i18n.gettext(locale, message)


def _render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    deps = request.app[PAGE_DEPS]
    base = {"_": _translate(deps, None), "static": cp.PAGE_PATH + "/static"}
    return aiohttp_jinja2.render_template(template, request, base | context, status=status)


def _session_response(
    deps: PageDeps, signer: cp.SessionSigner, opened: tuple[int, int], response: web.Response
) -> web.Response:
    response.set_cookie(
        COOKIE,
        signer.issue(opened[0], opened[1], deps.web.clock()),
        max_age=int(cp.SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=urlsplit(deps.web.base_url).scheme == "https",
        path=cp.PAGE_PATH,
    )
    return response


def _message(request: web.Request, status: int, message: str) -> web.Response:
    text = _locale_text(request.app[PAGE_DEPS], message)
    return _render(request, "contest_page.html", status=status, view={"step": "message", "message": text})


# --- pages ---------------------------------------------------------------------------------------------------


async def page(request: web.Request) -> web.StreamResponse:
    """The page: what the student has in the round, rendered on the server; the script takes over from there."""
    deps = request.app[PAGE_DEPS]
    found = request.get(PAGE)
    if found is None:
        return _message(request, 401, SIGNED_OUT)
    shown = request.query.get("ket-qua", "")
    view = await _state(deps, found, int(shown) if shown.isdigit() and len(shown) < 12 else None)
    return _render(request, "contest_page.html", view=view)


async def _state(deps: PageDeps, found: tuple[int, int], shown_attempt: int | None = None) -> dict[str, Any]:
    now = deps.web.clock()
    async with deps.web.uow_factory() as uow:
        user = await uow.users.get(found[0])
        if user is None:
            raise cp.PageRefusal(SIGNED_OUT, 401)
        translate = _translate(deps, user)
        live = await live_page.view(deps.web, deps.live, uow, user, found[1], translate)
        if live is not None:
            return live
        view = await cp.state(uow, deps.web.content, translate, user, found[1], now, shown_attempt)
        await uow.commit()  # overdue attempts closed on the way
    return view


async def entry_page(request: web.Request) -> web.StreamResponse:
    """GET only shows a button (pressed by the script at once): link previews must not spend the link."""
    return _render(request, "contest_entry.html", token=request.query.get("t", ""), telegram=False)


async def entry(request: web.Request) -> web.StreamResponse:
    deps = request.app[PAGE_DEPS]
    form = await request.post()
    token = form.get("t")
    now = deps.web.clock()
    async with deps.web.uow_factory() as uow:
        opened = await cp.redeem(uow, token if isinstance(token, str) else "", now)
        await uow.commit()
    if opened is None:
        return _message(request, 400, LINK_SPENT)
    signer = await deps.sessions()
    return _session_response(deps, signer, opened, web.Response(status=303, headers={"Location": cp.PAGE_PATH + "/"}))


async def mini_app(request: web.Request) -> web.StreamResponse:
    """The Mini App's address (set in BotFather): the script hands Telegram's initData to /api/telegram."""
    return _render(request, "contest_entry.html", token="", telegram=True, round=request.query.get("r", ""))


# --- the API -------------------------------------------------------------------------------------------------


async def api_telegram(request: web.Request) -> web.StreamResponse:
    deps = request.app[PAGE_DEPS]
    body = await _json(request)
    init_data, round_ref = body.get("init_data"), body.get("round")
    now = deps.web.clock()
    async with deps.web.uow_factory() as uow:
        opened = await cp.telegram_login(
            uow,
            deps.check_init_data,
            init_data if isinstance(init_data, str) else "",
            round_ref if isinstance(round_ref, str) else "",
            now,
        )
    if opened is None:
        return _error(deps, 403, LINK_SPENT)
    signer = await deps.sessions()
    return _session_response(deps, signer, opened, web.json_response({"ok": True}))


async def api_state(request: web.Request) -> web.StreamResponse:
    deps = request.app[PAGE_DEPS]
    shown = request.query.get("ket-qua", "")
    ref = int(shown) if shown.isdigit() and len(shown) < 12 else None
    return web.json_response(await _state(deps, request[PAGE], ref))


async def api_register(request: web.Request) -> web.StreamResponse:
    deps = request.app[PAGE_DEPS]
    user_id, round_id = request[PAGE]
    async with deps.web.uow_factory() as uow:
        user = await uow.users.get(user_id)
        if user is None:
            raise cp.PageRefusal(SIGNED_OUT, 401)
        await cp.register(uow, user, round_id, deps.web.clock())
        await uow.commit()
    return web.json_response({"ok": True})


async def api_start(request: web.Request) -> web.StreamResponse:
    deps = request.app[PAGE_DEPS]
    body = await _json(request)
    user_id, round_id = request[PAGE]
    async with deps.web.uow_factory() as uow:
        user = await uow.users.get(user_id)
        if user is None:
            raise cp.PageRefusal(SIGNED_OUT, 401)
        await cp.start(uow, deps.web.content, user, round_id, body.get("official") is True, deps.web.clock())
        await uow.commit()
    return web.json_response({"ok": True})


async def api_answer(request: web.Request) -> web.StreamResponse:
    """One answer, stored with the others that arrive meanwhile (`page_batch`); the reply comes after the
    commit, so a "saved" answer is durable."""
    deps = request.app[PAGE_DEPS]
    body = await _json(request)
    key = body.get("key")
    attempt, seq, pos = _int(body, "attempt"), _int(body, "seq"), _int(body, "pos")
    user_id, round_id = request[PAGE]
    sent = page_batch.Answer(
        user_id, round_id, attempt, seq, pos, key if isinstance(key, str) else "", deps.web.clock()
    )
    ack = await deps.answers.answer(sent)
    out: dict[str, Any] = {"status": ack.status, "chosen": ack.chosen}
    if ack.message:
        out["message"] = _locale_text(deps, ack.message)
    return web.json_response(out, status=200 if ack.status in ("saved", "duplicate") else 409)


async def api_submit(request: web.Request) -> web.StreamResponse:
    deps = request.app[PAGE_DEPS]
    body = await _json(request)
    attempt = _int(body, "attempt")
    prediction = body.get("prediction")
    async with deps.web.uow_factory() as uow:
        raw = str(prediction) if isinstance(prediction, int | str) else ""
        user_id, round_id = request[PAGE]
        status, message = await cp.submit(uow, user_id, round_id, attempt, raw, deps.web.clock())
        await uow.commit()
    out = {"status": status, "message": _locale_text(deps, message), "attempt": attempt}
    return web.json_response(out, status=403 if status == "foreign" else 200)


# --- the live round (bot.web.live_page) ----------------------------------------------------------------------


async def _student(uow: Any, user_id: int) -> UserRec:
    user = await uow.users.get(user_id)
    if user is None:
        raise cp.PageRefusal(SIGNED_OUT, 401)
    return user  # type: ignore[no-any-return]


async def api_live_join(request: web.Request) -> web.StreamResponse:
    deps = request.app[PAGE_DEPS]
    user_id, round_id = request[PAGE]
    async with deps.web.uow_factory() as uow:
        try:
            await live_page.join(deps.web, deps.live, uow, await _student(uow, user_id), round_id)
        except Refusal as exc:
            raise cp.PageRefusal(exc.message, **exc.fields) from None
        await uow.commit()
    return web.json_response({"ok": True})


async def api_live_answer(request: web.Request) -> web.StreamResponse:
    """One answer to the open question, one unit of work, the reply after the commit."""
    deps = request.app[PAGE_DEPS]
    body = await _json(request)
    seq, pos = _int(body, "seq"), _int(body, "pos")
    user_id, round_id = request[PAGE]
    async with deps.web.uow_factory() as uow:
        user = await _student(uow, user_id)
        status, outcome, message = await live_page.answer(deps.web, deps.live, uow, user, round_id, seq, pos)
        await uow.commit()
    return web.json_response({"status": outcome, "message": _locale_text(deps, message)}, status=status)


async def api_live_predict(request: web.Request) -> web.StreamResponse:
    deps = request.app[PAGE_DEPS]
    value = _int(await _json(request), "prediction")
    user_id, round_id = request[PAGE]
    async with deps.web.uow_factory() as uow:
        user = await _student(uow, user_id)
        message = await live_page.predict(deps.web, deps.live, uow, user, round_id, value)
        await uow.commit()
    return web.json_response({"message": _locale_text(deps, message, p=value)})


async def api_live_events(request: web.Request) -> web.StreamResponse:
    deps = request.app[PAGE_DEPS]
    _user_id, round_id = request[PAGE]
    async with deps.web.uow_factory() as uow:
        live = await deps.live.live(deps.web, uow, round_id)
    if live is None:
        return _error(deps, 404, SIGNED_OUT)
    return await live_page.stream(request, deps.web, deps.live, live, VI)


def make_page_app(deps: PageDeps) -> web.Application:
    app = web.Application(middlewares=[lean], client_max_size=MAX_BODY)
    app[PAGE_DEPS] = deps
    app[DEPS] = deps.web
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_get("/", page)
    app.router.add_get("/vao", entry_page)
    app.router.add_post("/vao", entry)
    app.router.add_get("/tg", mini_app)
    app.router.add_post("/api/telegram", api_telegram)
    app.router.add_get("/api/state", api_state)
    app.router.add_post("/api/register", api_register)
    app.router.add_post("/api/start", api_start)
    app.router.add_post("/api/answer", api_answer)
    app.router.add_post("/api/submit", api_submit)
    app.router.add_post("/api/live/join", api_live_join)
    app.router.add_post("/api/live/answer", api_live_answer)
    app.router.add_post("/api/live/predict", api_live_predict)
    app.router.add_get("/api/live/su-kien", api_live_events)
    app.router.add_static("/static", str(Path(__file__).parent / "static" / "page"))
    return app
