"""The console's pages: the overview of a period (for each role its own scope), and the contests with their
results and downloads (organizers, as in the chat). Rules and scopes are the services', not the templates'."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.contests import certificates, exports
from bot.contests import service as contests
from bot.contests.admin import SEPARATED
from bot.contests.ports import ContestRec, RoundRec
from bot.contests.ranking import PRIZE_NAMES
from bot.core import activity, mime
from bot.core.clock import vn_date
from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.core.roles import Role
from bot.reports import snapshots
from bot.reports.options import ReportOptions
from bot.reports.service import (
    Period,
    ReportAccessDenied,
    authorize,
    parse_period,
    reporting_year,
)
from bot.web import broadcasts, classes, contest_form, live_round, mailbox, pledges, report_jobs, standard, students
from bot.web.background import BACKGROUND
from bot.web.files import FILE_PATH
from bot.web.render import DEPS, NOT_FOUND, USER, page, refusal
from bot.web.service import digest

RESULTS_PER_PAGE = 100
FOR_ORGANIZERS = N_("Trang này dành cho ban tổ chức hội thi.")
FILE_GONE = N_(
    "Tệp này không còn tải được: đường dẫn đã quá 24 giờ hoặc không đúng. Hãy yêu cầu lại tệp trong chat nhé."
)
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
    """The reporting year `today` falls in and the next report deadline in it: the half-year cut-off while it is
    ahead, else the year's."""
    year = reporting_year(today, options)
    period, half = parse_period(str(year), options), parse_period(f"{year}-H1", options)
    return period, half.last if today <= half.last else period.last


async def overview(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    user = request[USER]
    now = deps.clock()
    period, deadline = reporting_period(vn_date(now), deps.reports)
    async with deps.uow_factory() as uow:
        try:
            scope, label = await authorize(uow, user, "mine")
        except ReportAccessDenied:
            return refusal(request, 403, NOT_FOUND)
    shown = await snapshots.overview_figures(deps.reader, deps.uow_factory, scope, period, now, request.app[BACKGROUND])
    if shown is None:  # counted for the first time, and it takes a while
        return page(request, "overview_counting.html", period=period, deadline=deadline)
    figures = shown.figures
    report_jobs.prime_charts(request, scope, label, period, figures)
    # Every class and month of the scope is a row, those with no activity too (zeros say something).
    by_class = {row.key: row for row in figures.by_class}
    by_month = {row.key: row for row in figures.by_month}
    months = [(m.strftime("%m/%Y"), by_month.get(i)) for i, m in enumerate(period.months())]
    return page(
        request,
        "overview.html",
        period=period,
        deadline=deadline,
        figures=figures,
        kinds=COUNTED,
        by_class=by_class,
        months=months,
        computed_at=shown.computed_at,
        current=shown.current,
        topics=report_jobs.topic_rows(figures, _gettext(request)),
        charts=report_jobs.CHARTS,
        chart_period=period.tag,
        chart_scope="mine",
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


async def _round(request: web.Request, uow: Any) -> tuple[ContestRec, RoundRec] | web.Response:
    """The round named in the URL, for an organizer; otherwise the page that says why not."""
    if request[USER].role != Role.ORGANIZER:
        return refusal(request, 403, FOR_ORGANIZERS)
    raw = request.match_info["round"]
    rnd = await uow.contests.round(int(raw)) if raw.isdigit() else None
    contest = await uow.contests.get(rnd.contest_id) if rnd is not None else None
    if rnd is None or contest is None:
        return refusal(request, 404, NOT_FOUND)
    return contest, rnd


class ResultsCache:
    """Per process, only to save work: a closed or published round's results as last computed, kept while the
    round's stored entries are unchanged (their number, the last submission, the last entry: the version) and at
    most `RESULTS_TTL` seconds (a name matched to the roster since then shows after that). Ranking a district
    round of 15,000 entries takes the server a second or two; its pages of 100 rows then come from here. An open
    round, the files and every action always compute anew."""

    def __init__(self, size: int = 8) -> None:
        self.kept: dict[int, tuple[float, Any, contests.RoundResults]] = {}
        self.size = size

    def get(self, round_id: int, version: Any) -> contests.RoundResults | None:
        found = self.kept.get(round_id)
        if found is None or found[1] != version or time.monotonic() - found[0] > RESULTS_TTL:
            return None
        return found[2]

    def put(self, round_id: int, version: Any, res: contests.RoundResults) -> None:
        if len(self.kept) >= self.size and round_id not in self.kept:
            del self.kept[min(self.kept, key=lambda k: self.kept[k][0])]
        self.kept[round_id] = (time.monotonic(), version, res)


RESULTS_TTL = 60.0
RESULTS_CACHE = web.AppKey("results_cache", ResultsCache)


async def _results(request: web.Request, cached: bool = False) -> contests.RoundResults | web.Response:
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        found = await _round(request, uow)
        if isinstance(found, web.Response):
            return found
        await contests.close_overdue(uow, deps.clock())
        contest, rnd = found
        rnd = await uow.contests.round(rnd.id) or rnd  # as closing it just now left it
        settled = contests.round_state(rnd, deps.clock()) is not contests.RoundState.OPEN
        version = (rnd.status, rnd.actual, await uow.contests.results_version(rnd.id)) if cached and settled else None
        await uow.commit()  # a round past its closing time was just closed
    res = request.app[RESULTS_CACHE].get(rnd.id, version) if version is not None else None
    if res is None:
        async with deps.reader() as reading:  # ranking a district round is a long read: beside the writer
            res = await contests.results(reading, contest, rnd)
        if version is not None:
            request.app[RESULTS_CACHE].put(rnd.id, version, res)
    return res


async def round_results(request: web.Request) -> web.StreamResponse:
    res = await _results(request, cached=True)
    if isinstance(res, web.Response):
        return res
    deps = request.app[DEPS]
    state = contests.round_state(res.round, deps.clock())
    async with deps.uow_factory() as uow:
        live = await uow.contests.live_counts(res.round.id) if state is contests.RoundState.OPEN else []
    done = request.query.get("xong", "")
    notice = _gettext(request)(DONE[done]).format(name=res.round.name, w=len(res.winners)) if done in DONE else ""
    # A district round is thousands of rows: the table shows them a page at a time (the files hold all of them).
    pages = max(1, -(-len(res.ranked) // RESULTS_PER_PAGE))
    raw = request.query.get("trang", "1")
    number = min(max(int(raw), 1), pages) if raw.isdigit() else 1
    first = (number - 1) * RESULTS_PER_PAGE
    shown = res.ranked[first : first + RESULTS_PER_PAGE]
    numbered = certificates.numbers(res)  # the place of each certificate's holder, as the files number them
    return page(
        request,
        "results.html",
        notice=notice,
        res=res,
        rows=shown,
        first=first,
        numbered=numbered,
        page_number=number,
        pages=pages,
        state=state,
        states=contests.RoundState,
        state_names=contests.STATE_NAMES,
        prize_names=PRIZE_NAMES,
        separated=SEPARATED,
        live=live,
        live_round=res.round,
        live_open=True,
    )


async def live_progress(request: web.Request) -> web.StreamResponse:
    """The open round's progress by school and class; the results page asks for it again every few seconds."""
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        found = await _round(request, uow)
        if isinstance(found, web.Response):
            return found
        await contests.close_overdue(uow, deps.clock())
        await uow.commit()
        _contest, rnd = found
        live = await uow.contests.live_counts(rnd.id)
    state = contests.round_state(rnd, deps.clock())
    return page(request, "live.html", live=live, live_round=rnd, live_open=state is contests.RoundState.OPEN)


ACTIONS = {"mo": N_("Mở vòng thi"), "dong": N_("Đóng vòng thi"), "cong-bo": N_("Công bố kết quả")}
CONFIRM = {
    "dong": N_("Đóng {name}? Học sinh không bắt đầu bài mới được nữa; bài đang làm vẫn được nộp đến hết giờ."),
    "cong-bo": N_(
        "Công bố kết quả {name}? {n} bài chính thức, {w} giải cá nhân. Mỗi học sinh đạt giải sẽ nhận được tin "
        "nhắn chúc mừng. Sau khi công bố không sửa được nữa."
    ),
}
DONE = {
    "mo": N_("Đã mở {name}. Học sinh gõ “thi” trong chat để vào thi."),
    "dong": N_("Đã đóng {name}."),
    "cong-bo": N_("Đã công bố kết quả {name}. {w} học sinh đạt giải sẽ nhận được tin nhắn chúc mừng."),
}


async def confirm_action(request: web.Request) -> web.StreamResponse:
    """Closing and publishing ask first: this page, with the form that does it."""
    res = await _results(request)
    if isinstance(res, web.Response):
        return res
    action = request.match_info["action"]
    if action not in CONFIRM:
        return refusal(request, 404, NOT_FOUND)
    text = request.app[DEPS].i18n.gettext(request[USER].locale, CONFIRM[action])
    question = text.format(name=res.round.name, n=len(res.ranked), w=len(res.winners))
    return page(request, "confirm.html", res=res, action=action, label=ACTIONS[action], question=question)


async def round_action(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    action = request.match_info["action"]
    if action not in ACTIONS:
        return refusal(request, 404, NOT_FOUND)
    user, now = request[USER], deps.clock()
    async with deps.uow_factory() as uow:
        found = await _round(request, uow)
        if isinstance(found, web.Response):
            return found
        contest, rnd = found
        try:
            if action == "mo":
                await contests.open_round(uow, rnd, user.id, now)
            elif action == "dong":
                await contests.close_round(uow, rnd, user.id, now)
            else:
                await contests.publish(uow, contest, rnd, user.id, now, deps.i18n.gettext)
        except Refusal as exc:
            return page(request, "message.html", status=409, title=rnd.name, message=exc.translated(_gettext(request)))
        await uow.commit()
    # The results page says what was done (by a fixed code: the URL carries no text of its own).
    return web.Response(status=303, headers={"Location": f"/hoi-thi/vong/{rnd.id}?xong={action}"})


def _gettext(request: web.Request) -> Callable[[str], str]:
    deps, user = request.app[DEPS], request.get(USER)
    locale = user.locale if user is not None else "vi"
    return lambda message: deps.i18n.gettext(locale, message)


async def results_xlsx(request: web.Request) -> web.StreamResponse:
    return await _export(request, "xlsx", exports.results_xlsx, mime.XLSX)


async def results_csv(request: web.Request) -> web.StreamResponse:
    return await _export(request, "csv", exports.results_csv, "text/csv; charset=utf-8")


async def _export(
    request: web.Request, fmt: str, write: Callable[[contests.RoundResults], bytes], content_type: str
) -> web.StreamResponse:
    """The round's results as a file, with the audit row the chat and the CLI write too."""
    deps = request.app[DEPS]
    res = await _results(request)
    if isinstance(res, web.Response):
        return res
    data = write(res)
    async with deps.uow_factory() as uow:
        detail = {"format": fmt, "rows": len(res.ranked), "via": "web"}
        await uow.audit.add(request[USER].id, "contest.export", f"round:{res.round.id}", detail, deps.clock())
        await uow.commit()
    return _download(data, content_type, f"{exports.file_stem(res)}.{fmt}")


async def certificates_file(request: web.Request) -> web.StreamResponse:
    """Every certificate of the round (one page each) in one PDF, for printing."""
    deps = request.app[DEPS]
    res = await _results(request)
    if isinstance(res, web.Response):
        return res
    pdf, pages = await asyncio.to_thread(certificates.certificates_pdf, res, vn_date(deps.clock()))
    if not pages:
        return refusal(request, 404, NO_CERTIFICATES)
    await _audit_export(request, res, {"format": "pdf", "pages": pages, "via": "web"})
    return _download(pdf, "application/pdf", f"{exports.file_stem(res, 'giay-khen')}.pdf")


async def certificates_zip(request: web.Request) -> web.StreamResponse:
    """Every certificate of the round, each a PDF of its own, in one ZIP."""
    deps = request.app[DEPS]
    res = await _results(request)
    if isinstance(res, web.Response):
        return res
    data, files = await asyncio.to_thread(certificates.certificates_zip, res, vn_date(deps.clock()))
    if not files:
        return refusal(request, 404, NO_CERTIFICATES)
    await _audit_export(request, res, {"format": "zip", "files": files, "via": "web"})
    return _download(data, "application/zip", f"{exports.file_stem(res, 'giay-khen')}.zip")


async def certificate_file(request: web.Request) -> web.StreamResponse:
    """One student's certificate (their place in the standings, from 1, as the results page links it)."""
    deps = request.app[DEPS]
    res = await _results(request)
    if isinstance(res, web.Response):
        return res
    raw = request.match_info["place"]
    place = int(raw) - 1 if raw.isdigit() else -1
    numbered = certificates.numbers(res)
    if place not in numbered or res.ranked[place].entry.erased:
        return refusal(request, 404, NO_CERTIFICATE)
    pdf, _pages = await asyncio.to_thread(certificates.certificates_pdf, res, vn_date(deps.clock()), place)
    await _audit_export(request, res, {"format": "pdf", "pages": 1, "place": place + 1, "via": "web"})
    name = certificates.file_name(numbered[place], res.ranked[place].entry.name)
    return _download(pdf, "application/pdf", name)


async def _audit_export(request: web.Request, res: contests.RoundResults, detail: dict[str, Any]) -> None:
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        await uow.audit.add(request[USER].id, "contest.export", f"round:{res.round.id}", detail, deps.clock())
        await uow.commit()


NO_CERTIFICATES = N_("Vòng thi này chưa có ai đạt giấy khen.")
NO_CERTIFICATE = N_("Bạn này không có giấy khen hay giấy chứng nhận trong vòng thi này.")


def _download(data: bytes, content_type: str, name: str) -> web.Response:
    return web.Response(
        body=data,
        headers={"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{name}"'},
    )


async def file_download(request: web.Request) -> web.StreamResponse:
    """A file the bot sent in the chat as a link (Zalo carries no files): the link is the key, for a day."""
    deps = request.app[DEPS]
    token, now = request.match_info["token"], deps.clock()
    async with deps.uow_factory() as uow:
        found = await uow.web_files.get(digest(token), now) if 20 <= len(token) <= 64 else None
        if found is None:
            return refusal(request, 404, FILE_GONE)
        await uow.audit.add(found.user_id, "file.download", f"user:{found.user_id}", {"file": found.filename}, now)
        await uow.commit()
    return _download(found.content, found.mime_type, found.filename)


def add_routes(app: web.Application) -> None:
    app[RESULTS_CACHE] = ResultsCache()
    app.router.add_get("/", overview)
    app.router.add_get("/hoi-thi", contest_list)
    report_jobs.add_routes(app)
    contest_form.add_routes(app)
    broadcasts.add_routes(app)
    standard.add_routes(app)
    mailbox.add_routes(app)
    pledges.add_routes(app)
    live_round.add_routes(app)
    app.router.add_get("/lop", classes.class_list)
    app.router.add_get("/lop/{klass}/in", classes.class_poster)
    app.router.add_post("/lop/{klass}/danh-sach", classes.roster_upload)
    students.add_routes(app)
    app.router.add_get(FILE_PATH + "/{token}", file_download)
    app.router.add_get("/hoi-thi/vong/{round}", round_results)
    app.router.add_get("/hoi-thi/vong/{round}/ket-qua.xlsx", results_xlsx)
    app.router.add_get("/hoi-thi/vong/{round}/ket-qua.csv", results_csv)
    app.router.add_get("/hoi-thi/vong/{round}/giay-khen.pdf", certificates_file)
    app.router.add_get("/hoi-thi/vong/{round}/giay-khen.zip", certificates_zip)
    app.router.add_get(r"/hoi-thi/vong/{round}/giay-khen/{place:\d+}.pdf", certificate_file)
    app.router.add_get("/hoi-thi/vong/{round}/tien-do", live_progress)
    app.router.add_get("/hoi-thi/vong/{round}/{action}", confirm_action)
    app.router.add_post("/hoi-thi/vong/{round}/{action}", round_action)
