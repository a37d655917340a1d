"""`python -m bot report --period 2026-H1 --scope all|school:ID --out DIR`: writes the DOCX, XLSX and PNG files."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

from bot.core.clock import Clock
from bot.reports.options import ReportOptions
from bot.reports.ports import ReportsUnitOfWork
from bot.reports.render import ReportFile, render_report
from bot.reports.service import (
    Period,
    PeriodError,
    ReportAccessDenied,
    ReportData,
    build_report,
    parse_period,
    summary_lines,
)


@dataclass(frozen=True)
class Deps:
    """What the command uses; the composition root builds it (on `--database-url` when given)."""

    uow_factory: Callable[[], ReportsUnitOfWork]
    clock: Clock
    options: ReportOptions


Opener = Callable[[argparse.Namespace], AbstractAsyncContextManager[Deps]]


async def make_report(
    uow_factory: Callable[[], ReportsUnitOfWork],
    scope: str,
    period: Period,
    options: ReportOptions,
    now: dt.datetime,
) -> tuple[ReportData, list[ReportFile]]:
    """The terminal operator's report: figures and audit row in one short transaction, then the files.

    Rendering happens after the commit so that a SQLite database is not held locked while charts are drawn."""
    async with uow_factory() as uow:
        data = await build_report(uow, None, scope, period, options, now)
        await uow.commit()
    files = await asyncio.to_thread(render_report, data)
    return data, files


def write_files(files: list[ReportFile], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in files:
        path = out / f.filename
        path.write_bytes(f.content)
        paths.append(path)
    return paths


async def _run(open_deps: Opener, args: argparse.Namespace) -> int:
    async with open_deps(args) as deps:
        return await dispatch(deps, args)


async def dispatch(deps: Deps, args: argparse.Namespace) -> int:
    options = deps.options
    try:
        period = parse_period(
            args.period, options, calendar=args.calendar, date_from=args.date_from, date_to=args.date_to
        )
    except PeriodError as exc:
        print(exc)
        return 2
    try:
        data, files = await make_report(deps.uow_factory, args.scope, period, options, deps.clock())
    except ReportAccessDenied:
        print(f"Không có phạm vi báo cáo {args.scope!r} (dùng all hoặc school:ID với ID là mã trường có thật).")
        return 2
    for line in summary_lines(data, lambda s: s):
        print(line)
    for path in write_files(files, Path(args.out)):
        print(f"Đã ghi {path}")
    return 0


def register(subparsers: argparse._SubParsersAction, open_deps: Opener) -> None:  # type: ignore[type-arg]
    """Adds the `report` subcommand to the main command line."""
    p = subparsers.add_parser("report", help="báo cáo 6 tháng / cả năm (DOCX + XLSX + biểu đồ)")
    p.add_argument("--period", help="2026-H1 (1/1 đến 15/6) hoặc 2026 (16/11/2025 đến 15/11/2026)")
    p.add_argument("--calendar", action="store_true", help="với --period YYYY: năm dương lịch 1/1–31/12")
    p.add_argument("--from", dest="date_from", help="ngày đầu (YYYY-MM-DD), dùng cùng --to thay cho --period")
    p.add_argument("--to", dest="date_to", help="ngày cuối (YYYY-MM-DD)")
    p.add_argument("--scope", default="all", help="all (toàn đặc khu) hoặc school:ID (một trường)")
    p.add_argument("--out", default="reports", help="thư mục ghi tệp (mặc định: ./reports)")
    p.add_argument("--database-url", help="mặc định: DATABASE_URL")
    p.set_defaults(func=lambda args: asyncio.run(_run(open_deps, args)))
