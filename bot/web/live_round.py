"""The live round in the web console: an organizer starts it for chosen classes, and the big screen at each
school (`/live/<round>`) shows the question, the countdown and the class and school standings, pushed by
Server-Sent Events. Each process counts the standings at most once a second, whatever the number of screens."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.accounts.ports import ClassRec
from bot.contests import service as contests
from bot.core.clock import vn_date
from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.core.roles import Role
from bot.live import service as live_svc
from bot.live.ports import LiveRec
from bot.web.render import DEPS, NOT_FOUND, USER, page, refusal

FOR_ORGANIZERS = N_("Trang này dành cho ban tổ chức hội thi.")
FOR_STAFF = N_("Màn hình vòng trực tiếp dành cho thầy cô và ban tổ chức.")
NO_LIVE = N_("Vòng thi này chưa có vòng trực tiếp.")
BAD_NUMBER = N_("Số giây hoặc số phút chưa đúng, nên chưa bắt đầu. Thầy/cô nhập số nguyên nhé.")
PHASES = {
    live_svc.Phase.WAITING: N_("Sắp bắt đầu"),
    live_svc.Phase.QUESTION: N_("Câu {n}/{total}"),
    live_svc.Phase.PAUSE: N_("Bảng xếp hạng sau câu {n}/{total}"),
    live_svc.Phase.ENDED: N_("Đã kết thúc. Kết quả chính thức được công bố sau khi ban tổ chức xác nhận."),
}
QUESTION_LABEL = N_("Câu {n}")
LETTERS = "ABCD"
SCREEN_CLASSES = 10  # classes on the big screen (a school's own screen shows all of its classes)
HEARTBEAT_SECONDS = 15


async def _find(request: web.Request, uow: Any) -> tuple[contests.ContestRec, contests.RoundRec] | None:
    raw = request.match_info["round"]
    rnd = await uow.contests.round(int(raw)) if raw.isdigit() else None
    contest = await uow.contests.get(rnd.contest_id) if rnd is not None else None
    return (contest, rnd) if rnd is not None and contest is not None else None


def _scope_classes(d: Any, members: list[Any]) -> list[ClassRec]:
    classes = [ClassRec(c.class_id, c.school_id, None, c.class_name, c.grade, "", "") for c in members]
    return [k for k in classes if contests.in_scope(d, k)]


async def start_form(request: web.Request) -> web.StreamResponse:
    """The organizer's form: which classes, how long each question, when the first one opens."""
    deps = request.app[DEPS]
    if request[USER].role != Role.ORGANIZER:
        return refusal(request, 403, FOR_ORGANIZERS)
    async with deps.uow_factory() as uow:
        found = await _find(request, uow)
        if found is None:
            return refusal(request, 404, NOT_FOUND)
        contest, rnd = found
        live = await uow.live.by_round(rnd.id)
        members = await uow.contests.class_members()
    d = contests.definition(contest)
    names = {c.class_id: c.school_name for c in members}
    classes = _scope_classes(d, members)
    return page(
        request,
        "live_start.html",
        contest=contest,
        rnd=rnd,
        live=live,
        classes=classes,
        school_of=names,
        ends_at=live_svc.ends_at(live) if live else None,
        defaults={"question": 20, "pause": 5, "minutes": 2},
    )


def _int(form: Any, name: str) -> int | None:
    raw = form.get(name, "")
    return int(raw) if isinstance(raw, str) and raw.strip().isdigit() else None


async def start(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    user, now = request[USER], deps.clock()
    if user.role != Role.ORGANIZER:
        return refusal(request, 403, FOR_ORGANIZERS)
    form = await request.post()
    question, pause, minutes = _int(form, "question"), _int(form, "pause"), _int(form, "minutes")
    chosen = {int(v) for v in form.getall("class", []) if isinstance(v, str) and v.isdigit()}
    if question is None or pause is None or minutes is None or minutes > 24 * 60:
        return refusal(request, 400, BAD_NUMBER)
    gettext = _gettext(request)
    async with deps.uow_factory() as uow:
        found = await _find(request, uow)
        if found is None:
            return refusal(request, 404, NOT_FOUND)
        contest, rnd = found
        members = await uow.contests.class_members()
        classes = [k for k in _scope_classes(contests.definition(contest), members) if k.id in chosen]
        if len(classes) < len(chosen):
            return refusal(request, 409, live_svc.OUT_OF_SCOPE)
        try:
            live = await live_svc.start(
                uow,
                deps.content,
                contest,
                rnd,
                classes,
                question,
                pause,
                now + dt.timedelta(minutes=minutes),
                user.id,
                now,
                vn_date(now),
            )
        except Refusal as exc:
            return page(request, "message.html", status=409, title=rnd.name, message=exc.translated(gettext))
        await uow.commit()
    return web.Response(status=303, headers={"Location": f"/live/{live.round_id}/bat-dau"})


def _gettext(request: web.Request) -> Any:
    deps, user = request.app[DEPS], request[USER]
    return lambda message: deps.i18n.gettext(user.locale, message)


# --- the big screen -----------------------------------------------------------------------------------------


class ScreenCache:
    """Per process: a live round's screen state, counted at most once a second for every screen it serves."""

    def __init__(self) -> None:
        self.kept: dict[tuple[int, int], tuple[int, dict[str, Any]]] = {}

    async def state(self, deps: Any, live: LiveRec, school_id: int | None, locale: str) -> dict[str, Any]:
        now = deps.clock()
        second = int(now.timestamp())
        key = (live.id, school_id or 0)
        found = self.kept.get(key)
        if found is not None and found[0] == second:
            return found[1]
        async with deps.reader() as uow:
            standings = await live_svc.standings(uow, live, now)
        state = screen_state(deps, live, standings, school_id, locale, now)
        if len(self.kept) > 64:
            self.kept.clear()
        self.kept[key] = (second, state)
        return state


SCREENS = web.AppKey("live_screens", ScreenCache)


def _standing(s: live_svc.Standing) -> dict[str, Any]:
    return {
        "name": s.name,
        "school": s.school_name,
        "joined": s.joined,
        "members": s.members,
        "rate": round(100 * s.rate),
        "participation": round(100 * s.participation),
    }


def schedule_state(deps: Any, live: LiveRec, locale: str, now: dt.datetime) -> dict[str, Any]:
    """Where the schedule is, as the screens and the students' pages show it: the phase, the open (or just
    closed) question with its options in the order everyone sees, and the time left. From the stored schedule and
    the content alone (no database), and never which option is right."""
    at = live_svc.slot(live, now)
    gettext = lambda message: deps.i18n.gettext(locale, message)  # noqa: E731
    state: dict[str, Any] = {
        "phase": at.phase.value,
        "index": at.index,
        "title": gettext(PHASES[at.phase]).format(n=at.index + 1, total=len(live.questions)),
        "remaining_ms": max(0, int((at.ends_at - now).total_seconds() * 1000)),
        "question": None,
    }
    if at.phase in (live_svc.Phase.QUESTION, live_svc.Phase.PAUSE):
        qid, order = live.questions[at.index]
        q = deps.content.question(qid)
        if q is not None:
            options = [f"{LETTERS[i]}. {q.options[o]}" for i, o in enumerate(order)]
            label = gettext(QUESTION_LABEL).format(n=at.index + 1)
            state["question"] = {"number": at.index + 1, "label": label, "stem": q.stem, "options": options}
    return state


def screen_state(
    deps: Any,
    live: LiveRec,
    standings: live_svc.Standings,
    school_id: int | None,
    locale: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """What the big screen shows now: the schedule's state and the standings (classes and schools, never a
    student's name)."""
    state = schedule_state(deps, live, locale, now)
    if school_id:  # a school's own screen: all of its classes
        classes = [c for c in standings.classes if c.school_id == school_id]
    else:
        classes = standings.classes[:SCREEN_CLASSES]
    state["classes"] = [_standing(c) for c in classes]
    state["schools"] = [_standing(s) for s in standings.schools]
    return state


async def _live_for_screen(request: web.Request) -> tuple[LiveRec, int | None] | web.Response:
    deps = request.app[DEPS]
    if request[USER].role not in (Role.TEACHER, Role.SCHOOL_ADMIN, Role.ORGANIZER):
        return refusal(request, 403, FOR_STAFF)
    raw = request.match_info["round"]
    async with deps.uow_factory() as uow:
        live = await uow.live.by_round(int(raw)) if raw.isdigit() else None
    if live is None:
        return refusal(request, 404, NO_LIVE)
    school = request.query.get("truong", "")
    return live, int(school) if school.isdigit() else request[USER].school_id


async def screen(request: web.Request) -> web.StreamResponse:
    """The big screen: drawn once by the server (and again every 5 s without JavaScript), then kept current by
    the events below."""
    found = await _live_for_screen(request)
    if isinstance(found, web.Response):
        return found
    live, school_id = found
    deps, user = request.app[DEPS], request[USER]
    state = await request.app[SCREENS].state(deps, live, school_id, user.locale)
    query = f"?truong={school_id}" if school_id else ""
    return page(request, "live_screen.html", live=live, state=state, events=f"/live/{live.round_id}/su-kien{query}")


async def events(request: web.Request) -> web.StreamResponse:
    """The big screen's Server-Sent Events."""
    found = await _live_for_screen(request)
    if isinstance(found, web.Response):
        return found
    live, school_id = found
    deps, user, screens = request.app[DEPS], request[USER], request.app[SCREENS]
    return await stream(request, lambda: screens.state(deps, live, school_id, user.locale))


async def stream(request: web.Request, produce: Callable[[], Awaitable[dict[str, Any]]]) -> web.StreamResponse:
    """Server-Sent Events: the state whenever it changes (looked at once a second and when the phase ends; the
    countdown alone is no change), a comment line every 15 s to keep proxies from closing the stream, and the
    end of the stream when the round is over. A client that went away ends it at the next write."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    sent: Any = None
    quiet = time.monotonic()
    with contextlib.suppress(ConnectionResetError):
        while True:
            state = await produce()
            # What changes the screen (the countdown alone does not): compared as values, serialized only to send.
            seen = (state["phase"], state["index"], state.get("classes"), state.get("schools"))
            if seen != sent:
                await response.write(f"data: {json.dumps(state, ensure_ascii=False)}\n\n".encode())
                sent, quiet = seen, time.monotonic()
            elif time.monotonic() - quiet > HEARTBEAT_SECONDS:
                await response.write(b": still here\n\n")
                quiet = time.monotonic()
            if state["phase"] == live_svc.Phase.ENDED.value:
                break
            # Awake at the next change of phase (every page at once, on the schedule), else once a second.
            await asyncio.sleep(min(1.0, state.get("remaining_ms", 1000) / 1000 + 0.005))
    return response


def add_routes(app: web.Application) -> None:
    app[SCREENS] = ScreenCache()
    app.router.add_get(r"/live/{round:\d+}", screen)
    app.router.add_get(r"/live/{round:\d+}/su-kien", events)
    app.router.add_get(r"/live/{round:\d+}/bat-dau", start_form)
    app.router.add_post(r"/live/{round:\d+}/bat-dau", start)
