"""Period reports: the period, who may see which scope, the figures (aggregated by the database) and the audit row."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core import activity
from bot.core.clock import VN_TZ, school_year_of, vn_date
from bot.core.ports import UserRec
from bot.core.roles import Role
from bot.pledges.service import PledgeReportRow, report_rows
from bot.reports.options import ReportOptions
from bot.reports.ports import ReportFigures, ReportScope, ReportsUnitOfWork, StandardTally


class PeriodError(ValueError):
    """A period that cannot be understood; the message says why, in Vietnamese."""


class ReportAccessDenied(PermissionError):
    """The user may not see this scope."""


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # half|year|calendar|custom
    first: dt.date
    last: dt.date  # inclusive

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), VN_TZ).astimezone(dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period (exclusive bound)."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), VN_TZ).astimezone(dt.UTC)

    @property
    def tag(self) -> str:
        if self.kind == "half":
            return f"{self.last.year}-H1"
        if self.kind in ("year", "calendar"):
            return str(self.last.year)
        return f"{self.first.isoformat()}_{self.last.isoformat()}"

    @property
    def phrase(self) -> str:
        """How the official summary line names the period."""
        if self.kind == "half":
            return f"6 tháng đầu năm {self.last.year}"
        if self.kind in ("year", "calendar"):
            return f"năm {self.last.year}"
        return f"từ ngày {self.first:%d/%m/%Y} đến ngày {self.last:%d/%m/%Y}"

    def months(self) -> list[dt.date]:
        """The first day of each calendar month the period touches (the first one is the period's start)."""
        out = [self.first]
        d = self.first.replace(day=1)
        while True:
            d = (d + dt.timedelta(days=32)).replace(day=1)
            if d > self.last:
                return out
            out.append(d)

    def month_starts(self) -> list[dt.datetime]:
        return [dt.datetime.combine(d, dt.time(), VN_TZ).astimezone(dt.UTC) for d in self.months()]


def _date(text: str) -> dt.date:
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
            return dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
        day, month, year = (int(p) for p in text.split("/"))
        return dt.date(year, month, day)
    except ValueError as exc:
        raise PeriodError(f"Ngày không hợp lệ: {text!r} (dùng YYYY-MM-DD hoặc DD/MM/YYYY).") from exc


def _cutoff(options: ReportOptions, which: str, year: int) -> dt.date:
    day, month = options.cutoff(which)
    return dt.date(year, month, day)


def parse_period(
    spec: str | None,
    options: ReportOptions,
    *,
    calendar: bool = False,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Period:
    """`YYYY-H1` (1/1 to the half-year cut-off), `YYYY` (the reporting year ending on the year cut-off, or the
    calendar year), or explicit first and last dates."""
    if date_from or date_to:
        if not (date_from and date_to):
            raise PeriodError("Cần cả ngày bắt đầu và ngày kết thúc.")
        first, last = _date(date_from), _date(date_to)
        if last < first:
            raise PeriodError("Ngày kết thúc phải sau ngày bắt đầu.")
        return Period("custom", first, last)
    spec = (spec or "").strip().upper()
    if m := re.fullmatch(r"(\d{4})-H1", spec):
        year = int(m.group(1))
        return Period("half", dt.date(year, 1, 1), _cutoff(options, "half", year))
    if re.fullmatch(r"\d{4}", spec):
        year = int(spec)
        if calendar:
            return Period("calendar", dt.date(year, 1, 1), dt.date(year, 12, 31))
        return Period("year", _cutoff(options, "year", year - 1) + dt.timedelta(days=1), _cutoff(options, "year", year))
    raise PeriodError(f"Kỳ báo cáo không hợp lệ: {spec!r} (ví dụ: 2026-H1 hoặc 2026).")


def reporting_year(today: dt.date, options: ReportOptions) -> int:
    """The reporting year `today` falls in: it ends on the year cut-off, so 16/11/2026 is already in 2027."""
    return today.year + (today > _cutoff(options, "year", today.year))


def offered_periods(today: dt.date, options: ReportOptions) -> list[Period]:
    """The periods the chat offers, the current one first: the current reporting year and its six months (the
    six months first while they are running), then the previous year and its six months."""
    year = reporting_year(today, options)
    half = parse_period(f"{year}-H1", options)
    whole = parse_period(str(year), options)
    current = [half, whole] if half.first <= today <= half.last else [whole, half]
    return [*current, parse_period(str(year - 1), options), parse_period(f"{year - 1}-H1", options)]


@dataclass(frozen=True, slots=True)
class ReportData:
    """What the renderers need: the period, the scope, the figures and the issuing details."""

    period: Period
    scope: ReportScope
    scope_label: str  # "all" | "school:ID" | "classes:1,2"
    school_name: str | None  # set for a one-school report
    figures: ReportFigures
    options: ReportOptions
    issued_on: dt.date
    # The "An toàn về ANTT" standard in the school year the period starts in (district and school reports only).
    standard: StandardTally | None = None
    # The pledges whose window overlaps the period: counts per class of the scope (tables.pledge_table).
    pledges: list[PledgeReportRow] = field(default_factory=list)

    @property
    def district_wide(self) -> bool:
        return self.scope.school_id is None and self.scope.class_ids is None

    def count(self, kind: str) -> int:
        return self.figures.totals.counts.get(kind, 0)


async def authorize(uow: ReportsUnitOfWork, actor: UserRec | None, requested: str) -> tuple[ReportScope, str]:
    """The scope `actor` asked for, if they may see it: organizers everything, school admins their school,
    teachers their own classes. `actor` None is the operator at the terminal (the CLI), who sees everything.
    `requested` is "all", "school:ID", "class:ID" or "mine" (the user's natural scope)."""
    kind, _, arg = requested.strip().lower().partition(":")
    role = actor.role if actor is not None else Role.ORGANIZER
    if kind == "mine":
        if role == Role.ORGANIZER:
            kind = "all"
        elif role == Role.SCHOOL_ADMIN and actor is not None and actor.school_id is not None:
            kind, arg = "school", str(actor.school_id)
        elif role == Role.TEACHER and actor is not None:
            own = tuple(sorted(c.id for c in await uow.classes.for_teacher(actor.id)))
            return ReportScope(class_ids=own), "classes:" + ",".join(map(str, own))
        else:
            raise ReportAccessDenied(requested)
    if kind == "all":
        if role != Role.ORGANIZER:
            raise ReportAccessDenied(requested)
        return ReportScope(), "all"
    if not arg.isdigit():
        raise ReportAccessDenied(requested)
    if kind == "school":
        school_id = int(arg)
        if role == Role.ORGANIZER or (role == Role.SCHOOL_ADMIN and actor is not None and actor.school_id == school_id):
            if await uow.schools.get(school_id) is None:
                raise ReportAccessDenied(requested)
            return ReportScope(school_id=school_id), f"school:{school_id}"
        raise ReportAccessDenied(requested)
    if kind == "class":
        klass = await uow.classes.get(int(arg))
        allowed = klass is not None and (
            role == Role.ORGANIZER
            or (role == Role.SCHOOL_ADMIN and actor is not None and actor.school_id == klass.school_id)
            or (role == Role.TEACHER and actor is not None and klass.teacher_id == actor.id)
        )
        if not allowed or klass is None:
            raise ReportAccessDenied(requested)
        return ReportScope(class_ids=(klass.id,)), f"classes:{klass.id}"
    raise ReportAccessDenied(requested)


async def build_report(
    uow: ReportsUnitOfWork,
    actor: UserRec | None,
    requested: str,
    period: Period,
    options: ReportOptions,
    now: dt.datetime,
) -> ReportData:
    """Check the scope, aggregate the figures and write the audit row (committed with the caller's unit of work)."""
    data = await report_data(uow, actor, requested, period, options, now)
    await audit_report(uow, actor.id if actor is not None else None, data, now)
    return data


async def report_data(
    uow: ReportsUnitOfWork,
    actor: UserRec | None,
    requested: str,
    period: Period,
    options: ReportOptions,
    now: dt.datetime,
) -> ReportData:
    """Check the scope and aggregate the figures, writing nothing (a report made later writes `audit_report`)."""
    scope, label = await authorize(uow, actor, requested)
    standard = None
    if scope.class_ids is None:  # a teacher's classes have no standard of their own
        standard = await uow.reports.standard(school_year_of(period.first), scope.school_id)
    figures = await figures_for(uow, scope, period)
    pledges = await report_rows(uow, scope.school_id, scope.class_ids, period.start, period.end)
    return assemble(scope, label, period, figures, options, now, standard, pledges)


def assemble(
    scope: ReportScope,
    label: str,
    period: Period,
    figures: ReportFigures,
    options: ReportOptions,
    now: dt.datetime,
    standard: StandardTally | None = None,
    pledges: list[PledgeReportRow] | None = None,
) -> ReportData:
    """The report's data from figures already aggregated for an authorized scope."""
    school_name = figures.schools.get(scope.school_id) if scope.school_id is not None else None
    if scope.class_ids is not None and len(figures.schools) == 1:
        school_name = next(iter(figures.schools.values()))
    return ReportData(period, scope, label, school_name, figures, options, vn_date(now), standard, pledges or [])


async def audit_report(uow: ReportsUnitOfWork, actor_id: int | None, data: ReportData, now: dt.datetime) -> None:
    """The audit row of a report made (with the files, in the same transaction where they are stored)."""
    period = data.period
    await uow.audit.add(
        actor_id,
        "report.create",
        data.scope_label,
        {"period": period.tag, "from": period.first.isoformat(), "to": period.last.isoformat()},
        now,
    )


async def figures_for(uow: ReportsUnitOfWork, scope: ReportScope, period: Period) -> ReportFigures:
    """The participation figures of `scope` in `period` (the report's and the web console's overview)."""
    return await uow.reports.figures(
        period.start,
        period.end,
        scope,
        activity.ALL_KINDS,
        activity.STUDENT_KINDS,
        period.month_starts(),
        (activity.CONTEST_ENTERED, activity.CONTEST_SUBMITTED, activity.CONTEST_AWARDED),
        mailbox_kind=activity.MAILBOX_WRITTEN,
    )


def period_phrase(period: Period, _: Callable[[str], str]) -> str:
    """`Period.phrase` in the reader's language, for the chat (the official documents keep `Period.phrase`)."""
    if period.kind == "half":
        return _("6 tháng đầu năm {y}").format(y=period.last.year)
    if period.kind in ("year", "calendar"):
        return _("năm {y}").format(y=period.last.year)
    return _("từ ngày {first} đến ngày {last}").format(first=f"{period.first:%d/%m/%Y}", last=f"{period.last:%d/%m/%Y}")


def summary_lines(data: ReportData, _: Callable[[str], str]) -> list[str]:
    """Five lines for the chat message (and the terminal), and a sixth on the standard where the report has it."""
    c = data.count
    where = data.school_name or _("toàn đặc khu")
    return [
        _("📄 Báo cáo {period} – {where}").format(period=period_phrase(data.period, _), where=where),
        _("👧 Học sinh tham gia: {n}").format(n=data.figures.totals.students),
        _("📚 Bài học: {d} lượt gửi, {o} lượt mở, {c} lượt hoàn thành").format(
            d=c(activity.LESSON_DELIVERED), o=c(activity.LESSON_OPENED), c=c(activity.LESSON_COMPLETED)
        ),
        _("✍️ Luyện tập: {p} lượt; hội thi: {e} lượt dự thi, {s} bài nộp").format(
            p=c(activity.PRACTICE_FINISHED), e=c(activity.CONTEST_ENTERED), s=c(activity.CONTEST_SUBMITTED)
        ),
        _("🆘 Tra cứu trợ giúp: {h} lượt; tin gửi lớp: {b}").format(
            h=c(activity.HELP_VIEWED), b=c(activity.BROADCAST_SENT)
        ),
    ] + standard_lines(data, _)


def standard_lines(data: ReportData, _: Callable[[str], str]) -> list[str]:
    s = data.standard
    if s is None:
        return []
    n = len(s.rows)
    return [
        _("🛡️ Tiêu chuẩn ANTT (năm học {year}): {r}/{n} trường đăng ký, {a} đã tự đánh giá, {m}/{n} đạt").format(
            year=s.school_year, r=s.registered, n=n, a=s.self_assessed, m=s.met
        )
    ]
