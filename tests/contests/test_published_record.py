"""Published results are a frozen record: a later deletion of a participant's (or a classmate's) data removes
the person's name everywhere but changes no published figure: rank, score, prize, participation rate."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from bot.app import App
from bot.contests import cli
from bot.contests import service as svc
from bot.privacy.retention import purge
from bot.reports.options import ReportOptions
from bot.reports.service import build_report, parse_period
from db import models as m
from db.base import Base
from db.models import ERASED_NAME
from tests.conftest import FakeClock
from tests.contests.helpers import Chat, contest_def, make_contest, make_roster

TITLE = "Hội thi thử nghiệm Ngày hội"


async def _cli(app: App, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="cmd"), open_deps=lambda _args: app.contest_cli())
    args = parser.parse_args(["contest", *argv])
    async with app.contest_cli() as deps:
        return await cli.dispatch(deps, args)


async def everything(app: App) -> str:
    """Every row of every table, as text."""
    parts = []
    async with app.sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                parts.append(json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False))
    return "\n".join(parts)


async def organizer_round(app: App) -> Chat:
    org = Chat(app, "console", "btc")
    await org.say("/thi")
    await org.tap(TITLE)
    await org.tap("Đợt 1")
    return org


async def export_in_chat(org: Chat) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], str]:
    """The organizer taps "Tải kết quả (Excel)": per ranked entry (rank, name, score, prize), per unit
    (participants, members, rate to 2 places, prize), read by the column titles, and every cell as text."""
    await org.tap("Tải kết quả (Excel)")
    (attachment,) = [a for r in org.replies for a in r.attachments]
    wb = load_workbook(io.BytesIO(attachment.content))

    def table(sheet: str, *columns: str) -> list[tuple[Any, ...]]:
        header, *rows = wb[sheet].iter_rows(values_only=True)
        at = [header.index(c) for c in columns]
        return [tuple(row[i] for i in at) for row in rows]

    entries = table("Xếp hạng", "Hạng", "Họ và tên", "Điểm", "Giải")
    units = [
        (n, members, round(rate, 2), prize)
        for n, members, rate, prize in table(
            "Giải tập thể", "Số người tham gia", "Số học sinh", "Tỉ lệ tham gia", "Giải"
        )
    ]
    cells = "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row)
    return entries, units, cells


async def report_contest_rows(app: App) -> list[Any]:
    """The contest table of the report over the weeks around the contest: entries, submissions, scores, prizes."""
    options = ReportOptions()
    period = parse_period(None, options, date_from="2026-11-01", date_to="2026-12-31")
    async with app.uow_factory() as uow:
        data = await build_report(uow, None, "all", period, options, app.clock())
    return data.figures.contests


async def delete_own_data(app: App, channel: str, external_id: str) -> None:
    chat = Chat(app, channel, external_id)
    await chat.say("/privacy")
    await chat.tap("Xóa dữ liệu của em")
    await chat.tap("Xóa hết")
    assert "Đã xóa dữ liệu" in chat.text


async def run_and_publish(app: App, clock: FakeClock) -> tuple[Any, Any]:
    """One class of three: two take part (5/5 and 4/5), one does not; the organizer closes and publishes."""
    roster = await make_roster(app, 1, 1, 2, random.Random(3), extra_members=1)
    contest = contest_def(clock(), collective={"unit": "class", "by": "rate", "top": 1})
    await make_contest(app, contest)
    for (ch, ext, _uid, _name), right in zip(roster.students, (5, 4), strict=True):
        chat = Chat(app, ch, ext)
        await chat.start_official()
        for q in range(5):
            clock.advance(seconds=5)
            await chat.tap("Đáp án đúng" if q < right else "sai")
        await chat.say("1")
        assert "Em đã nộp bài" in chat.text
    org = await organizer_round(app)
    await org.tap("Đóng đợt thi")
    await org.tap("Đóng đợt thi")
    await org.tap("Công bố kết quả")
    await org.tap("Xác nhận công bố")
    assert "Đã công bố kết quả" in org.text
    return roster, org


async def test_a_deletion_after_publishing_changes_names_not_published_figures(
    app: App,
    clock: FakeClock,
    tmp_path: Path,
    capsys: Any,
) -> None:
    roster, org = await run_and_publish(app, clock)
    (_ch_a, _ext_a, _uid_a, name_a), (ch_b, ext_b, uid_b, name_b) = roster.students
    assert name_a != name_b
    entries, units, _cells = await export_in_chat(org)
    assert entries == [(1, name_a, 5, "Giải Nhất"), (2, name_b, 4, "Giải Nhì")]
    assert units == [(2, 3, 0.67, "Giải tập thể")]  # 2 of 3: 67 %
    report = await report_contest_rows(app)
    assert [(c.entered, c.submitted, c.max_score, c.prizes) for c in report] == [(2, 2, 5, {1: 1, 2: 1})]

    # The second participant deletes their data, and so does the classmate who did not take part.
    await delete_own_data(app, ch_b, ext_b)
    await delete_own_data(app, "telegram", "u2")  # the class's third member (see make_roster)

    # Counted again from what is left, the class would read 1 of 1 (100 %) with one entry ...
    async with app.uow_factory() as uow:
        contest = await uow.contests.by_slug("thu-nghiem")
        assert contest is not None
        (rnd,) = await uow.contests.rounds(contest.id)
        live = await svc.live_results(uow, contest, rnd)
    assert len(live.ranked) == 1 and [(u.participants, u.unit.members) for u in live.units] == [(1, 1)]

    # ... but what was published stays: the same ranks, scores, prizes and rate, without the deleted name.
    org = await organizer_round(app)
    entries, units, cells = await export_in_chat(org)
    assert entries == [(1, name_a, 5, "Giải Nhất"), (2, ERASED_NAME, 4, "Giải Nhì")]
    assert units == [(2, 3, 0.67, "Giải tập thể")] and name_b not in cells
    await org.tap("Xem kết quả")
    assert "2 bài chính thức" in org.text and "tỉ lệ 67%" in org.text
    assert ERASED_NAME in org.text and name_b not in org.text

    capsys.readouterr()
    assert await _cli(app, "results", "thu-nghiem", "--round", "1") == 0
    printed = capsys.readouterr().out
    assert re.search(r"66[.,]7", printed) and ERASED_NAME in printed and name_b not in printed
    out = tmp_path / "out"
    assert await _cli(app, "export", "thu-nghiem", "--round", "1", "--out", str(out)) == 0
    assert name_b not in (out / "ket-qua-hoi-thi-thu-nghiem-ngay-hoi.csv").read_bytes().decode("utf-8-sig")
    pages = [p.extract_text() for p in PdfReader(out / "giay-chung-nhan-hoi-thi-thu-nghiem-ngay-hoi.pdf").pages]
    assert len(pages) == 1 and name_a in pages[0]  # no certificate names a deleted person

    # The stored record: the row keeps its figures and loses its link to the person; the name is nowhere.
    async with app.sessions() as s:
        rows = (await s.execute(select(m.PublishedResult).order_by(m.PublishedResult.rank))).scalars().all()
        (unit,) = (await s.execute(select(m.PublishedUnit))).scalars().all()
    assert [(r.rank, r.score, r.prize, r.display_name, r.erased) for r in rows] == [
        (1, 5, "nhat", name_a, False),
        (2, 4, "nhi", ERASED_NAME, True),
    ]
    assert rows[1].user_id is None and uid_b not in {r.user_id for r in rows}
    assert (unit.participants, unit.members, unit.prize) == (2, 3, True)
    assert await report_contest_rows(app) == report  # the period report counts the same entries and prizes
    student = Chat(app, roster.students[0][0], roster.students[0][1])
    await student.say("/thi")
    assert "em xếp hạng 1/2, 5/5 câu đúng" in student.text  # the student's own line reads the record too
    assert name_b not in await everything(app)


async def test_the_retention_purge_keeps_published_figures_and_removes_the_names(app: App, clock: FakeClock) -> None:
    roster, org = await run_and_publish(app, clock)
    before_entries, before_units, _cells = await export_in_chat(org)
    clock.advance(days=400)  # past the retention period: every account is inactive, every attempt old
    totals = await purge(app.uow_factory, clock(), retention_days=365, inbox_days=30)
    assert totals["inactive_accounts_erased"] >= 2
    org = await organizer_round(app)
    entries, units, _cells = await export_in_chat(org)
    assert units == before_units == [(2, 3, 0.67, "Giải tập thể")]
    assert entries == [(1, ERASED_NAME, 5, "Giải Nhất"), (2, ERASED_NAME, 4, "Giải Nhì")]
    assert [e[1] for e in before_entries] == [s[3] for s in roster.students]
    text = await everything(app)
    for _ch, _ext, _uid, name in roster.students:
        assert name not in text


async def test_a_round_published_before_the_record_was_kept_is_still_computed(app: App, clock: FakeClock) -> None:
    """Rounds published before this record existed have none: their results are counted from the stored rows."""
    await make_roster(app, 1, 1, 1, random.Random(4))
    contest_id = await make_contest(app, contest_def(clock()))
    async with app.uow_factory() as uow:
        (rnd,) = await uow.contests.rounds(contest_id)
        await uow.contests.update_round(rnd.id, status="published", published_at=clock() + dt.timedelta(days=3))
        await uow.commit()
    async with app.uow_factory() as uow:
        contest = await uow.contests.get(contest_id)
        assert contest is not None
        (rnd,) = await uow.contests.rounds(contest_id)
        assert await uow.contests.frozen(rnd.id) is None
        res = await svc.results(uow, contest, rnd)
    assert res.ranked == [] and [u.unit.members for u in res.units] == [1]
