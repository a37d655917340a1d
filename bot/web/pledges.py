"""The console's Ký cam kết pages: the pledges a member of staff sees, one pledge's tallies by school and class
(students and parents, confirmed and not), a printable list of a class, and the reminder. The scopes are the
pledges service's, as in the chat: organizers see counts, a class's names are for its teacher and its school's
admins only, and every printed list is audited."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp import web

from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.core.roles import STAFF, Role
from bot.pledges import service as pledges
from bot.pledges.ports import PledgeRec
from bot.web.render import DEPS, USER, page, refusal

FOR_STAFF = N_("Trang ký cam kết dành cho thầy cô và ban tổ chức.")
STATES = {"upcoming": N_("chưa mở"), "open": N_("đang mở"), "closed": N_("đã kết thúc")}
DONE = {"nhac": N_("Đã gửi lời nhắc tới {n} học sinh và phụ huynh chưa ký ({c} lớp).")}


def _gettext(request: web.Request) -> Any:
    return partial(request.app[DEPS].i18n.gettext, request[USER].locale)


def _int(raw: str) -> int:
    return int(raw) if raw.isdigit() else -1


async def _visible(request: web.Request, uow: Any) -> PledgeRec | web.Response:
    if request[USER].role not in STAFF:
        return refusal(request, 403, FOR_STAFF)
    try:
        return await pledges.visible_pledge(uow, request[USER], _int(request.match_info["pledge"]))
    except Refusal:
        return refusal(request, 404, pledges.NOT_FOUND)


async def pledge_list(request: web.Request) -> web.StreamResponse:
    user, deps = request[USER], request.app[DEPS]
    if user.role not in STAFF:
        return refusal(request, 403, FOR_STAFF)
    now = deps.clock()
    async with deps.uow_factory() as uow:
        found = await pledges.listed(uow, user)
        totals = {p.id: (await pledges.tally_view(uow, user, p.id)).total for p in found}
    states = {p.id: pledges.state(p, now) for p in found}
    windows = {p.id: pledges.window_text(p, _gettext(request)) for p in found}
    return page(
        request, "pledges.html", pledges=found, totals=totals, states=states, state_names=STATES, windows=windows
    )


async def pledge_page(request: web.Request) -> web.StreamResponse:
    user, deps = request[USER], request.app[DEPS]
    now = deps.clock()
    async with deps.uow_factory() as uow:
        pledge = await _visible(request, uow)
        if isinstance(pledge, web.Response):
            return pledge
        view = await pledges.tally_view(uow, user, pledge.id)
        school = await uow.schools.get(pledge.school_id) if pledge.school_id is not None else None
    done = request.query.get("xong", "")
    notice = ""
    if done in DONE:
        n, c = request.query.get("n", "0"), request.query.get("c", "0")
        notice = _gettext(request)(DONE[done]).format(n=_int(n), c=_int(c))
    return page(
        request,
        "pledge.html",
        pledge=pledge,
        view=view,
        scope=school.name if school else _gettext(request)("toàn đặc khu"),
        window=pledges.window_text(pledge, _gettext(request)),
        state=pledges.state(pledge, now),
        state_names=STATES,
        names_for={c.id for c, _t in view.classes if user.role in (Role.TEACHER, Role.SCHOOL_ADMIN)},
        by_school=user.role == Role.ORGANIZER,
        notice=notice,
    )


async def class_sheet(request: web.Request) -> web.StreamResponse:
    """The printable list of one class: each student, whether they and a parent confirmed, and when."""
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        found = await _visible(request, uow)
        if isinstance(found, web.Response):
            return found
        try:
            pledge, klass, rows = await pledges.class_list(
                uow, request[USER], found.id, _int(request.match_info["klass"]), deps.clock(), "web"
            )
        except Refusal:
            return refusal(request, 404, pledges.NO_CLASS)
        school = await uow.schools.get(klass.school_id)
        await uow.commit()  # the audit row: a list of names left the console
    return page(
        request,
        "pledge_sheet.html",
        pledge=pledge,
        klass=klass,
        rows=rows,
        school=school.name if school else "",
        window=pledges.window_text(pledge, _gettext(request)),
        printed=deps.clock(),
    )


async def remind(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        pledge = await _visible(request, uow)
        if isinstance(pledge, web.Response):
            return pledge
        try:
            classes, people = await pledges.remind(uow, request[USER], pledge.id, deps.clock(), deps.i18n.gettext)
        except Refusal as exc:
            return page(
                request, "message.html", status=409, title=pledge.title, message=exc.translated(_gettext(request))
            )
        await uow.commit()
    return web.Response(status=303, headers={"Location": f"/cam-ket/{pledge.id}?xong=nhac&n={people}&c={classes}"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/cam-ket", pledge_list)
    app.router.add_get("/cam-ket/{pledge}", pledge_page)
    app.router.add_get("/cam-ket/{pledge}/lop/{klass}", class_sheet)
    app.router.add_post("/cam-ket/{pledge}/nhac", remind)
