"""The console's Báo cáo pages: the 6-month or annual report of a scope made in the background, with its progress,
then its DOCX and XLSX; and the participation charts of the pages (SVG, drawn on the server).

Nothing lives in memory: a job is a row (`web_report_jobs`) that any process behind the proxy can show; the
process that received the request runs it as an asyncio task, the heavy drawing and writing in worker threads so
other pages stay fast. The files are stored (as `web_files` rows, with the audit row) only when all of them are
made, in one transaction: a failure leaves none. A job whose process died stops moving; after `STALE` it is shown
as failed and may be made again. Scopes are the reports service's (`authorize`), checked on every request."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from bot.core.clock import vn_date
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.core.roles import Role
from bot.learning.topics import TOPIC_NAMES
from bot.reports import snapshots, tables
from bot.reports.ports import ReportFigures, ReportScope
from bot.reports.render import DOCX_MIME, XLSX_MIME, docx_name, xlsx_name
from bot.reports.service import (
    Period,
    PeriodError,
    ReportAccessDenied,
    ReportData,
    assemble,
    audit_report,
    authorize,
    offered_periods,
    parse_period,
    period_phrase,
    report_data,
)
from bot.web.background import BACKGROUND
from bot.web.files import FILE_TTL
from bot.web.ports import WebReportJobRec, WebUnitOfWork
from bot.web.render import DEPS, NOT_FOUND, USER, WebDeps, page, refusal
from bot.web.service import digest, may_sign_in

log = logging.getLogger(__name__)
T = TypeVar("T")

STALE = dt.timedelta(minutes=5)  # a running job not heard from for this long has lost its process
HEARTBEAT = 60.0  # seconds between two signs of life during one long step
KEEP_JOBS = dt.timedelta(days=30)
RECENT = 8  # jobs listed on the page

STEPS = {
    "queued": N_("Đang chờ bắt đầu…"),
    "figures": N_("Đang tính số liệu…"),
    "charts": N_("Đang vẽ biểu đồ…"),
    "docx": N_("Đang ghi tệp Word…"),
    "xlsx": N_("Đang ghi tệp Excel…"),
    "saving": N_("Đang lưu tệp…"),
}
ERRORS = {
    "render": N_(
        "Không lập được báo cáo vì có lỗi khi tạo tệp. Chưa có tệp nào được lưu. Thầy/cô bấm “Lập lại” để thử "
        "lần nữa nhé; nếu vẫn lỗi, hãy báo người quản trị."
    ),
    "denied": N_("Thầy/cô không còn quyền xem phạm vi này nên báo cáo không được lập."),
    "stale": N_(
        "Việc lập báo cáo bị gián đoạn (máy chủ khởi động lại hoặc quá lâu không phản hồi). Chưa có tệp nào được "
        "lưu. Thầy/cô bấm “Lập lại” nhé."
    ),
}
STATE_NAMES = {
    "queued": N_("đang chờ"),
    "running": N_("đang lập"),
    "done": N_("đã xong"),
    "failed": N_("không thành công"),
}
BAD_FORM = N_("Thầy/cô chọn kỳ báo cáo rồi bấm “Lập báo cáo” nhé.")
FILE_EXPIRED = N_("Tệp của báo cáo này chỉ được giữ 24 giờ và đã hết hạn. Thầy/cô bấm “Lập lại” để có tệp mới nhé.")
# The charts by the name in their address, with their text alternative (their figures are in a table).
CHARTS = {
    "theo-thang": N_("Biểu đồ cột: lượt tham gia theo tháng."),
    "theo-chu-de": N_("Biểu đồ cột: lượt tham gia theo chủ đề."),
    "theo-don-vi": N_("Biểu đồ cột: học sinh tham gia so với sĩ số, theo trường hoặc theo lớp."),
}
CHART_TTL = 30.0  # seconds a scope's figures are reused for its charts (three images, one aggregation)


@dataclasses.dataclass(frozen=True)
class JobView:
    """A job as the page shows it: a queued or running job not heard from for `STALE` is failed."""

    job: WebReportJobRec
    state: str
    error: str | None
    phrase: str
    scope_name: str

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


class ChartCache:
    """Per process, only to save work: a scope's figures for `CHART_TTL` seconds (the overview leaves its own
    there, so its three charts aggregate nothing again; requests arriving together aggregate once), and the SVGs
    drawn from them by the hash of what they show (the ETag, so a browser asks again cheaply)."""

    def __init__(self, size: int = 48) -> None:
        self.data: OrderedDict[tuple[str, str], tuple[float, ReportData, str]] = OrderedDict()
        self.svgs: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self.locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.size = size

    def put(self, cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > self.size:
            cache.popitem(last=False)

    def fresh(self, key: tuple[str, str]) -> tuple[float, ReportData, str] | None:
        found = self.data.get(key)
        return found if found is not None and time.monotonic() - found[0] <= CHART_TTL else None

    def keep(self, data: ReportData) -> tuple[float, ReportData, str]:
        shown = json.dumps([t.rows for t in tables.all_tables(data)], default=str, ensure_ascii=False)
        digest_ = hashlib.sha256(f"{data.scope_label}|{data.period.tag}|{shown}".encode()).hexdigest()
        entry = (time.monotonic(), data, digest_)
        self.put(self.data, (data.scope_label, data.period.tag), entry)
        return entry


COUNTING = N_("Số liệu đang được tính lần đầu, biểu đồ sẽ có sau ít phút.")
# This process's running tasks, kept only so they are not collected (and stopped on shutdown).
JOBS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("report_jobs")
CHART_CACHE = web.AppKey("chart_cache", ChartCache)


def _gettext(request: web.Request) -> Callable[[str], str]:
    deps, user = request.app[DEPS], request[USER]
    return lambda message: deps.i18n.gettext(user.locale, message)


async def scope_choices(uow: WebUnitOfWork, user: UserRec, _: Callable[[str], str]) -> list[tuple[str, str]]:
    """The scopes a user may ask a report for, their own first: an organizer the district or one school, a
    school admin the school or one class, a teacher their classes or one of them."""
    if user.role == Role.ORGANIZER:
        return [("mine", _("Toàn đặc khu"))] + [(f"school:{s.id}", s.name) for s in await uow.schools.list()]
    if user.role == Role.SCHOOL_ADMIN and user.school_id is not None:
        school = await uow.schools.get(user.school_id)
        own = [("mine", school.name if school else _("Trường của thầy/cô"))]
        classes = await uow.classes.for_school(user.school_id)
        return own + [(f"class:{c.id}", _("Lớp {name}").format(name=c.name)) for c in classes]
    classes = await uow.classes.for_teacher(user.id)
    own = [("mine", _("Các lớp của thầy/cô"))]
    return own + ([(f"class:{c.id}", _("Lớp {name}").format(name=c.name)) for c in classes] if len(classes) > 1 else [])


def view(job: WebReportJobRec, now: dt.datetime, phrase: str, scope_name: str) -> JobView:
    if job.state in ("queued", "running") and job.updated_at < now - STALE:
        return JobView(job, "failed", "stale", phrase, scope_name)
    return JobView(job, job.state, job.error, phrase, scope_name)


def _phrase(tag: str, request: web.Request) -> str:
    try:
        return period_phrase(parse_period(tag, request.app[DEPS].reports), _gettext(request))
    except PeriodError:
        return tag


async def report_list(request: web.Request) -> web.StreamResponse:
    deps, user = request.app[DEPS], request[USER]
    now = deps.clock()
    periods = offered_periods(vn_date(now), deps.reports)
    async with deps.uow_factory() as uow:
        choices = await scope_choices(uow, user, _gettext(request))
        jobs = await uow.web_report_jobs.recent(user.id, RECENT)
    names = dict(choices)
    views = [view(j, now, _phrase(j.period, request), names.get(j.scope, j.scope)) for j in jobs]
    return page(
        request,
        "reports.html",
        periods=periods,
        choices=choices,
        jobs=views,
        state_names=STATE_NAMES,
        charts=CHARTS,
        chart_period=periods[0].tag,
        chart_phrase=period_phrase(periods[0], _gettext(request)),
        chart_scope="mine",
    )


async def _start(request: web.Request, scope: str, period: Period) -> web.StreamResponse:
    """The job of this user, scope and period: a new one (run by this process), or the one still running."""
    deps, user = request.app[DEPS], request[USER]
    now = deps.clock()
    async with deps.uow_factory() as uow:
        try:
            await authorize(uow, user, scope)  # before any row is written
        except ReportAccessDenied:
            return refusal(request, 403, NOT_FOUND)
        await uow.web_report_jobs.purge(now - KEEP_JOBS)
        job_id, new = await uow.web_report_jobs.start(user.id, scope, period.tag, period.kind, now, now - STALE)
        await uow.commit()
    if new:
        task = asyncio.create_task(run_job(deps, job_id))
        tasks = request.app[JOBS]
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    return web.Response(status=303, headers={"Location": f"/bao-cao/viec/{job_id}"})


async def report_file(request: web.Request) -> web.StreamResponse:
    """The report (DOCX) or its annex (XLSX) of a period for the user's own scope, made while the browser waits,
    and audited: the address the console had before the jobs, kept for links and scripts that use it."""
    from bot.reports.render import render_report  # the file libraries load only when a report is made

    deps = request.app[DEPS]
    tag, kind = request.match_info["period"], request.match_info["kind"]
    try:
        period = parse_period(tag, deps.reports)
    except PeriodError:
        return refusal(request, 404, NOT_FOUND)
    async with deps.reader() as uow:  # a long read: on the readers, never holding the writer
        try:
            data = await report_data(uow, request[USER], "mine", period, deps.reports, deps.clock())
        except ReportAccessDenied:
            return refusal(request, 403, NOT_FOUND)
    files = await asyncio.to_thread(render_report, data)
    async with deps.uow_factory() as uow:
        await audit_report(uow, request[USER].id, data, deps.clock())
        await uow.commit()  # the audit row, once the files exist
    wanted = next(f for f in files if f.filename.endswith(f".{kind}"))
    return _download(wanted.content, wanted.mime_type, wanted.filename)


def _download(data: bytes, content_type: str, name: str) -> web.Response:
    return web.Response(
        body=data,
        headers={"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{name}"'},
    )


async def report_start(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    tag, scope = str(form.get("ky", "")), str(form.get("pham-vi", "mine") or "mine")
    if len(scope) > 32:
        return refusal(request, 403, NOT_FOUND)
    try:
        period = parse_period(tag, request.app[DEPS].reports)
    except PeriodError:
        return refusal(request, 400, BAD_FORM)
    return await _start(request, scope, period)


async def _own_job(request: web.Request, uow: WebUnitOfWork) -> WebReportJobRec | web.Response:
    """The job in the URL if it is the user's (another's is the same page as one that does not exist)."""
    raw = request.match_info["job"]
    job = await uow.web_report_jobs.get(int(raw)) if raw.isdigit() and len(raw) < 18 else None
    if job is None or job.user_id != request[USER].id:
        return refusal(request, 404, NOT_FOUND)
    return job


async def _job_view(request: web.Request) -> JobView | web.Response:
    deps, user = request.app[DEPS], request[USER]
    async with deps.uow_factory() as uow:
        job = await _own_job(request, uow)
        if isinstance(job, web.Response):
            return job
        names = dict(await scope_choices(uow, user, _gettext(request)))
    return view(job, deps.clock(), _phrase(job.period, request), names.get(job.scope, job.scope))


def _job_context(jv: JobView) -> dict[str, Any]:
    steps = list(STEPS)[1:]
    at = steps.index(jv.job.step) if jv.job.step in steps else (len(steps) if jv.state == "done" else 0)
    return {
        "jv": jv,
        "steps": [(STEPS[s], i < at, i == at and jv.active) for i, s in enumerate(steps)],
        "step_text": STEPS.get(jv.job.step, STEPS["queued"]),
        "error_text": ERRORS.get(jv.error or "", ERRORS["render"]),
        "state_names": STATE_NAMES,
        "charts": CHARTS,
        "chart_period": jv.job.period,
        "chart_scope": jv.job.scope,
    }


async def job_page(request: web.Request) -> web.StreamResponse:
    jv = await _job_view(request)
    if isinstance(jv, web.Response):
        return jv
    return page(request, "report_job.html", **_job_context(jv))


async def job_status(request: web.Request) -> web.StreamResponse:
    """The job's progress alone; the page asks for it every second while the job runs."""
    jv = await _job_view(request)
    if isinstance(jv, web.Response):
        return jv
    return page(request, "report_job_status.html", **_job_context(jv))


async def job_retry(request: web.Request) -> web.StreamResponse:
    async with request.app[DEPS].uow_factory() as uow:
        job = await _own_job(request, uow)
    if isinstance(job, web.Response):
        return job
    try:
        period = parse_period(job.period, request.app[DEPS].reports)
    except PeriodError:
        return refusal(request, 404, NOT_FOUND)
    return await _start(request, job.scope, period)


async def job_file(request: web.Request) -> web.StreamResponse:
    """A finished job's DOCX or XLSX, for its user, with the audit row every download writes."""
    deps, user = request.app[DEPS], request[USER]
    now = deps.clock()
    async with deps.uow_factory() as uow:
        job = await _own_job(request, uow)
        if isinstance(job, web.Response):
            return job
        file_id = job.docx_file_id if request.match_info["kind"] == "docx" else job.xlsx_file_id
        found = await uow.web_files.by_id(file_id, user.id, now) if job.state == "done" and file_id else None
        if found is None:
            return refusal(request, 404, FILE_EXPIRED if job.state == "done" else NOT_FOUND)
        detail = {"file": found.filename, "job": job.id, "via": "web"}
        await uow.audit.add(user.id, "file.download", f"user:{user.id}", detail, now)
        await uow.commit()
    return _download(found.content, found.mime_type, found.filename)


async def run_job(deps: WebDeps, job_id: int) -> None:
    """Make the job's files: figures, charts, DOCX, XLSX, each step recorded; then files, audit row and the
    job's end in one transaction. Any failure is recorded on the job (and logged), and no file is stored."""
    async with deps.uow_factory() as uow:
        claimed = await uow.web_report_jobs.claim(job_id, deps.clock())
        await uow.commit()
        job = await uow.web_report_jobs.get(job_id) if claimed else None
    if job is None:
        return  # another runner has it
    try:
        await _make(deps, job)
    except ReportAccessDenied:
        await _fail(deps, job_id, "denied")
    except asyncio.CancelledError:
        await asyncio.shield(_fail(deps, job_id, "stale"))
        raise
    except Exception:
        log.exception("report job %s failed", job_id)
        await _fail(deps, job_id, "render")


async def _make(deps: WebDeps, job: WebReportJobRec) -> None:
    from bot.reports import charts, docx_report, xlsx_annex  # matplotlib, python-docx, openpyxl: slow to import

    period = parse_period(job.period, deps.reports)
    async with deps.reader() as uow:  # a long read: on the readers, never holding the writer
        user = await uow.users.get(job.user_id)
        if user is None or not may_sign_in(user):
            raise ReportAccessDenied(job.scope)
        data = await report_data(uow, user, job.scope, period, deps.reports, deps.clock())
    drawn = await _step(deps, job.id, "charts", charts.all_charts, data)
    docx = await _step(deps, job.id, "docx", docx_report.build_docx, data, drawn)
    xlsx = await _step(deps, job.id, "xlsx", xlsx_annex.build_xlsx, data)
    await _progress(deps, job.id, "saving")
    now = deps.clock()
    async with deps.uow_factory() as uow:
        # The files are reached through the job, never by a link: their token is random and thrown away.
        keep = now + FILE_TTL
        docx_id = await uow.web_files.add(_unused(), user.id, docx_name(data), DOCX_MIME, docx, keep, now)
        xlsx_id = await uow.web_files.add(_unused(), user.id, xlsx_name(data), XLSX_MIME, xlsx, keep, now)
        await audit_report(uow, user.id, data, now)
        await uow.web_report_jobs.finish(job.id, docx_id, xlsx_id, now)
        await uow.commit()


def _unused() -> str:
    return digest(secrets.token_urlsafe(32))


async def _progress(deps: WebDeps, job_id: int, step: str) -> None:
    async with deps.uow_factory() as uow:
        await uow.web_report_jobs.progress(job_id, step, deps.clock())
        await uow.commit()


async def _step(deps: WebDeps, job_id: int, step: str, work: Callable[..., T], *args: Any) -> T:
    """One step in a worker thread; a long one keeps telling the database that its process is alive."""
    await _progress(deps, job_id, step)
    running = asyncio.ensure_future(asyncio.to_thread(work, *args))
    while True:
        done, _pending = await asyncio.wait({running}, timeout=HEARTBEAT)
        if done:
            return running.result()
        await _progress(deps, job_id, step)


async def _fail(deps: WebDeps, job_id: int, error: str) -> None:
    try:
        async with deps.uow_factory() as uow:
            await uow.web_report_jobs.fail(job_id, error, deps.clock())
            await uow.commit()
    except Exception:  # the database is gone too: the job goes stale and is shown as failed
        log.exception("report job %s: could not record its failure", job_id)


async def chart(request: web.Request) -> web.StreamResponse:
    """One participation chart (SVG) of a period for a scope the user may see (their own by default)."""
    deps, user = request.app[DEPS], request[USER]
    name, scope = request.match_info["name"], request.query.get("pham-vi", "mine")
    if name not in CHARTS or len(scope) > 32:
        return refusal(request, 404, NOT_FOUND)
    try:
        period = parse_period(request.match_info["period"], deps.reports)
    except PeriodError:
        return refusal(request, 404, NOT_FOUND)
    cache = request.app[CHART_CACHE]
    async with deps.uow_factory() as uow:
        try:
            allowed, label = await authorize(uow, user, scope)
        except ReportAccessDenied:
            return refusal(request, 403, NOT_FOUND)
    key = (label, period.tag)
    cached = cache.fresh(key)
    if cached is None:
        async with cache.locks.setdefault(key, asyncio.Lock()):  # the page's charts arrive together
            cached = cache.fresh(key)
            if cached is None:
                now = deps.clock()
                # A school's or the district's figures as the overview keeps them (see `bot.reports.snapshots`).
                shown = await snapshots.overview_figures(
                    deps.reader, deps.uow_factory, allowed, period, now, request.app[BACKGROUND]
                )
                if shown is None:  # the scope's first count is still going on: the chart comes with the page
                    return refusal(request, 503, COUNTING)
                cached = cache.keep(assemble(allowed, label, period, shown.figures, deps.reports, now))
    _at, data, figures_hash = cached
    etag = f'"{figures_hash[:32]}-{name}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=60"}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    svg = cache.svgs.get((figures_hash, name))
    if svg is None:
        from bot.reports import charts  # matplotlib loads with the first chart, not with the console

        svg = await asyncio.to_thread(charts.chart_svg, data, name)
        cache.put(cache.svgs, (figures_hash, name), svg)
    return web.Response(body=svg, content_type="image/svg+xml", headers=headers)


def prime_charts(request: web.Request, scope: ReportScope, label: str, period: Period, figures: ReportFigures) -> None:
    """A page that has just aggregated a scope's figures leaves them for its charts."""
    deps = request.app[DEPS]
    request.app[CHART_CACHE].keep(assemble(scope, label, period, figures, deps.reports, deps.clock()))


def topic_rows(figures: Any, _: Callable[[str], str]) -> list[tuple[str, Any]]:
    """The overview's rows by topic: each of the five topics (with no activity too), then any other."""
    found = {row.key: row for row in figures.by_topic}
    # The topic's name without its emoji (the chat's), as the chart names it.
    rows = [(_(label).partition(" ")[2], found.get(topic)) for topic, label in TOPIC_NAMES.items()]
    return rows + [(str(k), row) for k, row in found.items() if k is not None and k not in TOPIC_NAMES]


async def _cancel_jobs(app: web.Application) -> None:
    """On shutdown the jobs in hand stop; they are recorded as interrupted and may be made again."""
    running = app[JOBS]
    tasks = list(running)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def add_routes(app: web.Application) -> None:
    app[JOBS] = set()
    app[CHART_CACHE] = ChartCache()
    app.on_cleanup.append(_cancel_jobs)
    app.router.add_get("/bao-cao", report_list)
    app.router.add_post("/bao-cao/lap", report_start)
    app.router.add_get("/bao-cao/viec/{job}", job_page)
    app.router.add_get("/bao-cao/viec/{job}/trang-thai", job_status)
    app.router.add_post("/bao-cao/viec/{job}/lai", job_retry)
    app.router.add_get(r"/bao-cao/viec/{job}/{kind:docx|xlsx}", job_file)
    app.router.add_get("/bao-cao/bieu-do/{period}/{name}.svg", chart)
    app.router.add_get(r"/bao-cao/{period}.{kind:docx|xlsx}", report_file)
