"""The console's pages: the overview of a period (for each role its own scope), and the contests with their
results and downloads (organizers, as in the chat). Rules and scopes are the services', not the templates'."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from bot.contests import exports
from bot.contests import service as contests
from bot.contests.admin import SEPARATED
from bot.contests.ranking import PRIZE_NAMES
from bot.core import activity, mime
from bot.core.clock import vn_date
from bot.core.i18n import N_
from bot.core.roles import Role
from bot.reports.options import ReportOptions
from bot.reports.service import Period, ReportAccessDenied, authorize, figures_for, parse_period
from bot.web.render import DEPS, USER, page, refusal

FOR_ORGANIZERS = N_("Trang này dành cho ban tổ chức hội thi.")
NOT_FOUND = N_("Không tìm thấy trang này, hoặc thầy/cô không có quyền xem.")
# The columns of the overview, as the report names them.
COUNTED = {
    activity.LESSON_DELIVERED: N_("Bài học đã gửi"),
    activity.LESSON_OPENED: N_("Lượt mở bài"),
    activity.LESSON_COMPLETED: N_("Lượt học xong"),
    activity.PRACTICE_FINISHED: N_("Lượt luyện tập"),
    activity.CONTEST_ENTERED: N_("Lượt dự thi"),
    activity.CONTEST_SUBMITTED: N_("Bài thi đã nộp"),
}


def reporting_period(today: dt.date, options: ReportOptions) -> tuple[Period, dt.date]:
    """The reporting year `today` falls in (it ends on the year cut-off) and the next report deadline in it: the
    half-year cut-off while it is ahead, else the year's."""
    day, month = options.cutoff("year")
    year = today.year + 1 if today > dt.date(today.year, month, day) else today.year
    period = parse_period(str(year), options)
    half = parse_period(f"{year}-H1", options)
    return period, half.last if today <= half.last else period.last


async def overview(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    user = request[USER]
    now = deps.clock()
    period, deadline = reporting_period(vn_date(now), deps.reports)
    async with deps.uow_factory() as uow:
        try:
            scope, _label = await authorize(uow, user, "mine")
        except ReportAccessDenied:
            return refusal(request, 403, NOT_FOUND)
        figures = await figures_for(uow, scope, period)
    months = [m.strftime("%m/%Y") for m in period.months()]
    return page(
        request,
        "overview.html",
        period=period,
        deadline=deadline,
        figures=figures,
        kinds=COUNTED,
        months=months,
    )


async def contest_list(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    if request[USER].role != Role.ORGANIZER:
        return refusal(request, 403, FOR_ORGANIZERS)
    now = deps.clock()
    async with deps.uow_factory() as uow:
        await contests.close_overdue(uow, now)
        rows = [(c, await uow.contests.rounds(c.id)) for c in await uow.contests.all()]
        await uow.commit()
    states = {r.id: contests.round_state(r, now) for _c, rounds in rows for r in rounds}
    return page(request, "contests.html", contests=rows, states=states, state_names=contests.STATE_NAMES)


async def _results(request: web.Request) -> contests.RoundResults | web.Response:
    deps = request.app[DEPS]
    if request[USER].role != Role.ORGANIZER:
        return refusal(request, 403, FOR_ORGANIZERS)
    raw = request.match_info["round"]
    async with deps.uow_factory() as uow:
        rnd = await uow.contests.round(int(raw)) if raw.isdigit() else None
        contest = await uow.contests.get(rnd.contest_id) if rnd is not None else None
        if rnd is None or contest is None:
            return refusal(request, 404, NOT_FOUND)
        await contests.close_overdue(uow, deps.clock())
        res = await contests.results(uow, contest, rnd)
        await uow.commit()
    return res


async def round_results(request: web.Request) -> web.StreamResponse:
    res = await _results(request)
    if isinstance(res, web.Response):
        return res
    state = contests.round_state(res.round, request.app[DEPS].clock())
    return page(
        request,
        "results.html",
        res=res,
        state=state,
        state_names=contests.STATE_NAMES,
        prize_names=PRIZE_NAMES,
        separated=SEPARATED,
    )


async def results_xlsx(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    res = await _results(request)
    if isinstance(res, web.Response):
        return res
    data = exports.results_xlsx(res)
    async with deps.uow_factory() as uow:
        await uow.audit.add(
            request[USER].id,
            "contest.export",
            f"round:{res.round.id}",
            {"format": "xlsx", "rows": len(res.ranked), "via": "web"},
            deps.clock(),
        )
        await uow.commit()
    name = f"ket-qua-{res.contest.slug}-dot-{res.round.number}.xlsx"
    return web.Response(
        body=data,
        content_type=mime.XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", overview)
    app.router.add_get("/hoi-thi", contest_list)
    app.router.add_get("/hoi-thi/vong/{round}", round_results)
    app.router.add_get("/hoi-thi/vong/{round}/ket-qua.xlsx", results_xlsx)
