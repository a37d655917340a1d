"""The organizer's terminal: create from the example YAML, open, close, publish, export XLSX/CSV/PDF, audited."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from bot.app import App
from bot.contests import cli, exports
from bot.contests.loader import DefinitionError, load_all, load_contest
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import Chat, make_roster

# The files are named from the contest's title and the round's name.
STEM = "hoi-thi-tim-hieu-phap-luat-ngay-hoi-toan-dan-bao-ve-an-ninh-to-quoc-2027-dot-1"
EXAMPLE = Path(__file__).resolve().parents[2] / "content" / "quizzes" / "contests" / "ngay-hoi-2027.yaml"


async def _cli(app: App, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="cmd"), open_deps=lambda _args: app.contest_cli())
    args = parser.parse_args(["contest", *argv])
    async with app.contest_cli() as deps:
        return await cli.dispatch(deps, args)


def test_the_example_contest_file_is_valid_and_strict(tmp_path: Path) -> None:
    d = load_contest(EXAMPLE)
    assert d.questions == 20 and d.time_limit_minutes == 15 and len(d.rounds) == 2
    assert d.ranking == ["score", "prediction", "duration", "submitted_at"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8") + "\nsurprise: 1\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="surprise"):
        load_contest(bad)
    assert set(load_all(EXAMPLE.parent)) == {EXAMPLE}


async def test_cli_runs_a_contest_and_exports_it(app: App, clock: FakeClock, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    roster = await make_roster(app, 2, 2, 3, random.Random(7))
    text = EXAMPLE.read_text(encoding="utf-8")
    # The example's first round, moved to today, with a 5-question attempt that the small test bank can fill.
    start = clock().astimezone(dt.timezone(dt.timedelta(hours=7)))
    text = text.replace("2027-08-05T07:00:00+07:00", (start + dt.timedelta(hours=1)).isoformat())
    text = text.replace("2027-08-11T21:00:00+07:00", (start + dt.timedelta(days=1)).isoformat())
    text = text.replace("questions: 20", "questions: 5").replace("difficulty: {1: 8, 2: 8, 3: 4}", "difficulty: {}")
    text = text.replace("min_score: 10", "min_score: 1").replace("pass_score: 16", "pass_score: 3")
    text = text.replace("grades: [6, 7, 8, 9]", "grades: []")
    path = tmp_path / "hoi-thi.yaml"
    path.write_text(text, encoding="utf-8")

    assert await _cli(app, "create", str(path)) == 0
    assert await _cli(app, "create", str(path)) == 1  # the same id twice
    assert await _cli(app, "open", "ngay-hoi-2027") == 0
    for i, (ch, ext, _uid, _name) in enumerate(roster.students):
        chat = Chat(app, ch, ext)
        await chat.start_official()
        for q in range(5):
            clock.advance(seconds=5 + i)
            await chat.tap("Đáp án đúng" if q <= i else "sai")
        await chat.say(str(10 + i))
        assert "Em đã nộp bài" in chat.text
    assert await _cli(app, "publish", "ngay-hoi-2027") == 1  # still open
    assert await _cli(app, "close", "ngay-hoi-2027") == 0
    assert await _cli(app, "publish", "ngay-hoi-2027") == 1  # needs --yes
    assert await _cli(app, "publish", "ngay-hoi-2027", "--yes") == 0
    assert await _cli(app, "results", "ngay-hoi-2027", "--round", "1") == 0
    out = tmp_path / "out"
    assert await _cli(app, "export", "ngay-hoi-2027", "--round", "1", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "Đã công bố Đợt 1" in printed

    wb = load_workbook(out / f"ket-qua-{STEM}.xlsx")
    ws = wb["Xếp hạng"]
    assert [c.value for c in ws[1]] == list(exports.COLUMNS)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3 and [r[4] for r in rows] == [3, 2, 1]  # best score first
    best = next(s for s in roster.students if s[1] == rows[0][1] or s[3] == rows[0][1])
    assert rows[0][1] == best[3] and rows[0][10] == "Giải Nhất"
    assert "Giải tập thể" in wb.sheetnames and [c.value for c in wb["Giải tập thể"][1]] == list(exports.UNIT_COLUMNS)
    csv_text = (out / f"ket-qua-{STEM}.csv").read_bytes().decode("utf-8-sig")
    assert csv_text.splitlines()[0].split(",")[:5] == ["Hạng", "Họ và tên", "Trường", "Lớp", "Điểm"]
    assert best[3] in csv_text

    reader = PdfReader(io.BytesIO((out / f"giay-chung-nhan-{STEM}.pdf").read_bytes()))
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) == 3  # every student won a prize here
    assert best[3] in pages[0] and "GIẤY KHEN" in pages[0] and "Giải Nhất" in pages[0]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in pages[0]

    async with app.sessions() as s:
        audit = (await s.execute(select(m.AuditLog).order_by(m.AuditLog.id))).scalars().all()
    actions = [a.action for a in audit]
    assert actions.count("contest.export") == 3 and {"contest.create", "contest.open", "contest.close"} <= set(actions)
    assert {a.detail["format"] for a in audit if a.action == "contest.export"} == {"xlsx", "csv", "pdf"}
    assert all(a.detail["rows"] == 3 for a in audit if a.action == "contest.export")
