"""Reports in chat and at the terminal: the menu entry, the period choice, the files and the five-line summary."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from bot.__main__ import main
from bot.app import App, unit_of_work_factory
from bot.channels.console.app import ConsoleSession
from bot.core import activity as a
from bot.reports.options import ReportOptions
from bot.reports.service import parse_period
from db import models as m
from db.base import Base
from db.session import create_engine, session_factory
from tests.core.test_console_flows import option_number
from tests.reports.dataset import seed_dataset


async def test_an_organizer_gets_the_files_and_a_five_line_summary(app: App) -> None:
    await seed_dataset(app.uow_factory, app.clock(), rows=150)
    btc = ConsoleSession(app.dispatcher, user="btc")
    screen = await btc.send("/menu")
    assert "📄 Báo cáo" in screen
    screen = await btc.send(option_number(screen, "Báo cáo"))
    assert "Thầy/cô muốn lập báo cáo kỳ nào?" in screen and "Cả năm 2027 (16/11/2026 – 15/11/2027)" in screen
    screen = await btc.send(option_number(screen, "6 tháng đầu năm 2026"))

    period = parse_period("2026-H1", ReportOptions())
    async with app.sessions() as s:
        rows = [r for r in (await s.execute(select(m.Activity))).scalars() if period.start <= r.at < period.end]
        audit = list((await s.execute(select(m.AuditLog).where(m.AuditLog.action == "report.create"))).scalars())
    n = {k: sum(r.kind == k for r in rows) for k in a.ALL_KINDS}
    students = len({r.user_id for r in rows if r.kind in a.STUDENT_KINDS})
    summary = [
        "📄 Báo cáo 6 tháng đầu năm 2026 – toàn đặc khu",
        f"👧 Học sinh tham gia: {students}",
        f"📚 Bài học: {n[a.LESSON_DELIVERED]} lượt gửi, {n[a.LESSON_OPENED]} lượt mở, "
        f"{n[a.LESSON_COMPLETED]} lượt hoàn thành",
        f"✍️ Luyện tập: {n[a.PRACTICE_FINISHED]} lượt; hội thi: {n[a.CONTEST_ENTERED]} lượt dự thi, "
        f"{n[a.CONTEST_SUBMITTED]} bài nộp",
        f"🆘 Tra cứu trợ giúp: {n[a.HELP_VIEWED]} lượt; tin gửi lớp: {n[a.BROADCAST_SENT]}",
    ]
    assert "\n".join(summary) in screen
    names = [name for name, _ in btc.attachments]
    assert names == ["bao-cao-2026-H1-toan-dac-khu.docx", "phu-luc-2026-H1-toan-dac-khu.xlsx"]
    doc = Document(io.BytesIO(btc.attachments[0][1]))
    assert len(doc.inline_shapes) == 3
    assert load_workbook(io.BytesIO(btc.attachments[1][1])).sheetnames[0] == "Tổng hợp"
    assert len(audit) == 1 and audit[0].scope == "all"


async def test_who_sees_the_report_entry_and_who_is_refused(app: App) -> None:
    d = await seed_dataset(app.uow_factory, app.clock(), rows=20)
    assert "📄 Báo cáo" in await ConsoleSession(app.dispatcher, user="qtA").send("/menu")
    assert "📄 Báo cáo" not in await ConsoleSession(app.dispatcher, user="hsA10").send("/menu")

    student = ConsoleSession(app.dispatcher, user="hsA10")
    assert "chỉ dành cho ban tổ chức, nhà trường và giáo viên" in await student.send("/report")
    admin = ConsoleSession(app.dispatcher, user="qtA")
    assert "không có quyền xem báo cáo của phạm vi này" in await admin.send("/report 2026-H1 all")
    assert "không có quyền" in await admin.send(f"/report 2026 school:{d.school_b}")
    assert "Kỳ báo cáo chưa đúng" in await admin.send("/baocao 2026-H7")
    assert student.attachments == admin.attachments == []
    async with app.sessions() as s:
        assert list(await s.execute(select(m.AuditLog).where(m.AuditLog.action == "report.create"))) == []

    screen = await admin.send("/baocao 2026")
    assert "📄 Báo cáo năm 2026 – Trường THCS Lê Lợi" in screen
    assert [name for name, _ in admin.attachments] == [
        "bao-cao-2026-truong-thcs-le-loi.docx",
        "phu-luc-2026-truong-thcs-le-loi.xlsx",
    ]
    teacher = ConsoleSession(app.dispatcher, user="gv3")
    assert "📄 Báo cáo 6 tháng đầu năm 2026 – Trường Tiểu học Hòn Tre" in await teacher.send("/report 2026-H1")


def test_the_command_line_writes_the_files(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await seed_dataset(unit_of_work_factory(session_factory(engine)), dt.datetime.now(dt.UTC), rows=100)
        await engine.dispose()

    asyncio.run(prepare())
    out = tmp_path / "out"
    assert main(["report", "--period", "2026-H1", "--scope", "all", "--out", str(out), "--database-url", url]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "bao-cao-2026-H1-toan-dac-khu.docx",
        "bieu-do-theo-chu-de-2026-H1-toan-dac-khu.png",
        "bieu-do-theo-don-vi-2026-H1-toan-dac-khu.png",
        "bieu-do-theo-thang-2026-H1-toan-dac-khu.png",
        "phu-luc-2026-H1-toan-dac-khu.xlsx",
    ]
    printed = capsys.readouterr().out
    assert printed.startswith("📄 Báo cáo 6 tháng đầu năm 2026 – toàn đặc khu\n👧 Học sinh tham gia: ")
    args = ["report", "--from", "2026-03-01", "--to", "2026-03-31", "--scope", "school:1", "--out", str(out)]
    assert main([*args, "--database-url", url]) == 0
    assert (out / "bao-cao-2026-03-01_2026-03-31-truong-thcs-le-loi.docx").exists()
    assert main(["report", "--period", "2026-H9", "--out", str(out), "--database-url", url]) == 2
    assert main(["report", "--period", "2026", "--scope", "school:77", "--out", str(out), "--database-url", url]) == 2
    assert "Kỳ báo cáo không hợp lệ" in capsys.readouterr().out
