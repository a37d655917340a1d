"""Reports in chat: an organizer, school admin or teacher picks a period and gets the DOCX and XLSX files."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.accounts.menu import menu_options
from bot.core.errors import UserFacingError
from bot.core.i18n import N_
from bot.core.replies import Attachment
from bot.core.roles import STAFF, require_role
from bot.core.router import Router
from bot.reports.ports import Ctx
from bot.reports.render import render_report
from bot.reports.service import (
    Period,
    PeriodError,
    ReportAccessDenied,
    build_report,
    offered_periods,
    parse_period,
    summary_lines,
)

router = Router()

FOR_STAFF = N_("Chức năng báo cáo chỉ dành cho ban tổ chức, nhà trường và giáo viên.")


@router.command("report", "baocao")
async def cmd_report(ctx: Ctx, args: str) -> None:
    """`/report` offers the periods; `/report 2026-H1 [school:ID]` makes one at once."""
    _ = ctx._
    require_role(ctx, *STAFF, message=FOR_STAFF)
    if args.strip():
        parts = args.split()
        await make(ctx, parts[0], parts[1] if len(parts) > 1 else "mine")
        return
    options = [(period_label(p, _), f"reports.make:{p.tag}") for p in offered_periods(ctx.today, ctx.env.reports)]
    ctx.ask(
        _("Thầy/cô muốn lập báo cáo kỳ nào?"),
        [
            *options,
            (_("⬅️ Về menu"), "menu"),
        ],
        replace_previous=ctx.answering_prompt,
    )


def period_label(period: Period, _: Callable[[str], str]) -> str:
    """The name the office uses, with the days it covers: "Cả năm 2027 (16/11/2026 – 15/11/2027)"."""
    name = _("6 tháng đầu năm {y}") if period.kind == "half" else _("Cả năm {y}")
    return f"{name.format(y=period.last.year)} ({period.first:%d/%m/%Y} – {period.last:%d/%m/%Y})"


@router.action("reports.menu")
async def on_report_menu(ctx: Ctx, _arg: str) -> None:
    await cmd_report(ctx, "")


@router.action("reports.make")
async def on_make(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *STAFF, message=FOR_STAFF)
    await make(ctx, arg, "mine")


async def make(ctx: Ctx, period_spec: str, scope: str) -> None:
    _ = ctx._
    try:
        period = parse_period(period_spec, ctx.env.reports)
    except PeriodError as exc:
        raise UserFacingError(
            _("Kỳ báo cáo chưa đúng. Thầy/cô gõ ví dụ: /report 2026-H1 (6 tháng) hoặc /report 2026 (cả năm).")
        ) from exc
    try:
        data = await build_report(ctx.uow, ctx.user, scope, period, ctx.env.reports, ctx.now)
    except ReportAccessDenied as exc:
        raise UserFacingError(_("Thầy/cô không có quyền xem báo cáo của phạm vi này.")) from exc
    files = await asyncio.to_thread(render_report, data)
    # The charts are inside the DOCX; the report and its annex are the two files worth sending.
    attachments = tuple(
        Attachment(f.filename, f.content, f.mime_type, caption=_("Báo cáo") if f.filename.endswith(".docx") else "")
        for f in files
        if not f.filename.endswith(".png")
    )
    ctx.say("\n".join(summary_lines(data, _)), attachments=attachments)
    ctx.ask(_("Thầy/cô muốn làm gì tiếp theo?"), menu_options(ctx))
