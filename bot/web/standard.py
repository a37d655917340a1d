"""The console's Tiêu chuẩn ANTT pages: a school admin registers the school and fills the self-assessment in one
form (evidence as links: the console keeps no uploaded files); an organizer sees every school's status against
the plan's target and records the evaluation made with the police. The rules and scopes are the standard
service's, as in the chat."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from aiohttp import web

from bot.core.clock import school_year_of, vn_date
from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.core.roles import Role
from bot.standard import service as standard
from bot.standard.ports import Answer
from bot.web.render import DEPS, NOT_FOUND, USER, page, refusal

DONE = {
    "dang-ky": N_("Trường đã đăng ký tiêu chuẩn năm học này."),
    "nop": N_("Đã nộp bản tự đánh giá."),
    "danh-gia": N_("Đã ghi kết quả đánh giá."),
}


def _gettext(request: web.Request) -> Any:
    return partial(request.app[DEPS].i18n.gettext, request[USER].locale)


def _today(request: web.Request) -> dt.date:
    return vn_date(request.app[DEPS].clock())


def _allowed(request: web.Request) -> web.Response | None:
    if request[USER].role not in (Role.SCHOOL_ADMIN, Role.ORGANIZER):
        return refusal(request, 403, standard.FOR_ADMINS_AND_ORGANIZERS)
    return None


async def home(request: web.Request) -> web.StreamResponse:
    if (denied := _allowed(request)) is not None:
        return denied
    deps, user = request.app[DEPS], request[USER]
    year = school_year_of(_today(request))
    criteria = deps.content.standard
    done = request.query.get("xong", "")
    notice = _gettext(request)(DONE[done]) if done in DONE else ""
    async with deps.uow_factory() as uow:
        try:
            if user.role == Role.ORGANIZER:
                view = await standard.district_view(uow, user, year)
                return page(
                    request,
                    "standard_district.html",
                    view=view,
                    year=year,
                    criteria=criteria,
                    names=standard.STATUS_NAMES,
                    notice=notice,
                )
            found = await standard.school_status(uow, user, year)
        except Refusal as exc:
            return page(request, "message.html", status=403, title=exc.translated(_gettext(request)), message="")
    return _school_page(request, found, year, notice=notice)


def _school_page(
    request: web.Request,
    found: standard.SchoolStatus,
    year: str,
    *,
    status: int = 200,
    notice: str = "",
    errors: list[str] | None = None,
    values: dict[str, Answer] | None = None,
) -> web.Response:
    answers = values if values is not None else (found.rec.answers if found.rec is not None else {})
    return page(
        request,
        "standard_school.html",
        status=status,
        found=found,
        year=year,
        criteria=request.app[DEPS].content.standard,
        answers=answers,
        names=standard.STATUS_NAMES,
        results=standard.RESULT_NAMES,
        notice=notice,
        errors=errors or [],
        organizer=request[USER].role == Role.ORGANIZER,
        today=_today(request),
    )


async def register(request: web.Request) -> web.StreamResponse:
    if (denied := _allowed(request)) is not None:
        return denied
    deps, user = request.app[DEPS], request[USER]
    async with deps.uow_factory() as uow:
        try:
            await standard.register(uow, user, school_year_of(_today(request)), deps.clock())
        except Refusal as exc:
            return page(request, "message.html", status=409, title=exc.translated(_gettext(request)), message="")
        await uow.commit()
    return web.Response(status=303, headers={"Location": "/tieu-chuan?xong=dang-ky"})


def _answers(form: Any, criteria: Any) -> tuple[dict[str, Answer], bool]:
    """The form's answers (`dat-<id>`: 1 or 0, `ghi-chu-<id>`, `minh-chung-<id>`: a link a line) and whether
    every criterion has a choice; a value the form does not offer counts as no choice."""
    out: dict[str, Answer] = {}
    for c in criteria.criteria:
        met = form.get(f"dat-{c.id}")
        if met in ("1", "0"):
            links = [x.strip() for x in str(form.get(f"minh-chung-{c.id}", "")).splitlines() if x.strip()]
            out[c.id] = Answer(met == "1", str(form.get(f"ghi-chu-{c.id}", "")), links)
    return out, len(out) == len(criteria.criteria)


async def self_assess(request: web.Request) -> web.StreamResponse:
    """The whole self-assessment at once, all or nothing: a form with any bad answer changes nothing and shows
    the form again with what was typed and why."""
    if (denied := _allowed(request)) is not None:
        return denied
    deps, user = request.app[DEPS], request[USER]
    year = school_year_of(_today(request))
    form = await request.post()
    async with deps.uow_factory() as uow:
        try:
            criteria = standard.criteria_of(deps.content.standard)
            found = await standard.school_status(uow, user, year)
        except Refusal as exc:
            return page(request, "message.html", status=403, title=exc.translated(_gettext(request)), message="")
        answers, complete = _answers(form, criteria)
        if not complete:
            message = _gettext(request)(N_("Thầy/cô chọn “Đạt” hoặc “Chưa đạt” cho mọi tiêu chí rồi nộp lại nhé."))
            return _school_page(request, found, year, status=422, errors=[message], values=answers)
        try:
            await standard.submit(uow, user, criteria, year, deps.clock(), answers=answers)
        except Refusal as exc:
            errors = [exc.translated(_gettext(request))]
            return _school_page(request, found, year, status=422, errors=errors, values=answers)
        await uow.commit()
    return web.Response(status=303, headers={"Location": "/tieu-chuan?xong=nop"})


async def _named_school(request: web.Request, uow: Any, year: str) -> standard.SchoolStatus | web.Response:
    """The school in the URL if the user may see it; otherwise the page that says so (the same for a school that
    does not exist and another school)."""
    raw = request.match_info["school"]
    try:
        return await standard.school_status(uow, request[USER], year, int(raw) if raw.isdigit() else -1)
    except Refusal:
        return refusal(request, 404, NOT_FOUND)


async def school(request: web.Request) -> web.StreamResponse:
    """One school's self-assessment and evaluation (an organizer; a school admin only their own school)."""
    if (denied := _allowed(request)) is not None:
        return denied
    year = school_year_of(_today(request))
    async with request.app[DEPS].uow_factory() as uow:
        found = await _named_school(request, uow, year)
    if isinstance(found, web.Response):
        return found
    done = request.query.get("xong", "")
    return _school_page(request, found, year, notice=_gettext(request)(DONE[done]) if done in DONE else "")


def _date(text: str) -> dt.date:
    """`<input type="date">` sends YYYY-MM-DD; typed by hand, DD/MM/YYYY."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return standard.parse_date(text)


async def evaluate(request: web.Request) -> web.StreamResponse:
    if (denied := _allowed(request)) is not None:
        return denied
    deps, user = request.app[DEPS], request[USER]
    year = school_year_of(_today(request))
    form = await request.post()
    async with deps.uow_factory() as uow:
        found = await _named_school(request, uow, year)
        if isinstance(found, web.Response):
            return found
        try:
            standard.require_organizer(user)
            on = _date(str(form.get("ngay", "")))
            result, note = str(form.get("ket_qua", "")), str(form.get("ghi_chu", ""))
            await standard.evaluate(uow, user, found.school.id, year, result, on, note, _today(request), deps.clock())
        except Refusal as exc:
            status = 403 if user.role != Role.ORGANIZER else 422
            return _school_page(request, found, year, status=status, errors=[exc.translated(_gettext(request))])
        await uow.commit()
    return web.Response(status=303, headers={"Location": f"/tieu-chuan/truong/{found.school.id}?xong=danh-gia"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/tieu-chuan", home)
    app.router.add_post("/tieu-chuan/dang-ky", register)
    app.router.add_post("/tieu-chuan/tu-danh-gia", self_assess)
    app.router.add_get("/tieu-chuan/truong/{school}", school)
    app.router.add_post("/tieu-chuan/truong/{school}/danh-gia", evaluate)
