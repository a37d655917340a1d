"""What an office gets from a published round: file names from the titles, a workbook that prints and speaks
Vietnamese (real date cells in Vietnam time, the ranking rule as a sentence), names as the school's roster
spells them, and certificates with a number, the place and date, the signer and room to sign, inside the frame."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import re
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from bot.app import App
from bot.broadcasts.roster import auto_link
from bot.contests import certificates, cli
from bot.contests.loader import DefinitionError, load_contest
from bot.core.clock import VN_TZ
from bot.core.text import fold
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import Chat, contest_def, make_contest, make_roster

TITLE = "Hội thi An toàn giao thông 2026"
STEM = "hoi-thi-an-toan-giao-thong-2026"
CERTS = {
    "pass_score": 1,
    "issuer": "Phòng Giáo dục và Đào tạo",
    "place": "Thanh Trì",
    "signer_title": "Trưởng ban Tổ chức",
    "signer_name": "Nguyễn Thị Hồng Nhung",
    "number_prefix": "PGDĐT",
}


async def _cli(app: App, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="cmd"), open_deps=lambda _args: app.contest_cli())
    args = parser.parse_args(["contest", *argv])
    async with app.contest_cli() as deps:
        return await cli.dispatch(deps, args)


@pytest.fixture
async def exported(app: App, clock: FakeClock, tmp_path: Path) -> dict[str, Any]:
    """Three students of one class take a one-round contest; the first typed "Tran Van Binh" and is on the
    roster as "Trần Văn Bình". The round is closed, published and exported with the CLI."""
    roster = await make_roster(app, 1, 1, 3, random.Random(3))
    (class_id,) = roster.classes
    typed = roster.students[0][2]
    names = ["Trần Văn Bình", *(s[3] for s in roster.students[1:])]
    async with app.uow_factory() as uow:
        await uow.users.update(typed, display_name="Tran Van Binh")
        await uow.rosters.add_entries(class_id, [(n, fold(n), None) for n in names], clock())
        assert await auto_link(uow, class_id) == []  # every student matched to their row
        await uow.commit()
    await make_contest(app, contest_def(clock(), title=TITLE, certificates=CERTS))
    for i, (ch, ext, _uid, _name) in enumerate(roster.students):
        chat = Chat(app, ch, ext)
        await chat.say("/thi")
        if i == 0:  # the registration shows and keeps the roster's spelling
            assert "Họ và tên: Trần Văn Bình" in chat.text and "Tran Van Binh" not in chat.text
        await chat.tap("Đúng, em đăng ký")
        await chat.tap("Thi chính thức")
        for q in range(5):
            clock.advance(seconds=5 + i)
            await chat.tap("Đáp án đúng" if q <= 2 - i else "sai")
        await chat.say(str(1 + i))
        assert "Em đã nộp bài" in chat.text
    clock.advance(minutes=30)
    out = tmp_path / "out"
    assert await _cli(app, "close", "thu-nghiem") == 0
    assert await _cli(app, "publish", "thu-nghiem", "--yes") == 0
    assert await _cli(app, "export", "thu-nghiem", "--out", str(out)) == 0
    async with app.sessions() as s:
        finished = sorted(
            a.finished_at for a in (await s.execute(select(m.QuizAttempt))).scalars() if a.finished_at is not None
        )
        registered = {r.user_id: r.display_name for r in (await s.execute(select(m.ContestRegistration))).scalars()}
    assert registered[typed] == "Trần Văn Bình"
    return {"out": out, "names": names, "finished": finished}


async def test_files_are_named_from_the_contest_title(exported: dict[str, Any]) -> None:
    assert sorted(p.name for p in exported["out"].iterdir()) == [
        f"giay-chung-nhan-{STEM}.pdf",
        f"ket-qua-{STEM}.csv",
        f"ket-qua-{STEM}.xlsx",
    ]


async def test_the_workbook_speaks_vietnamese_and_holds_real_dates(exported: dict[str, Any]) -> None:
    wb = load_workbook(exported["out"] / f"ket-qua-{STEM}.xlsx")
    ws = wb["Xếp hạng"]
    header = [c.value for c in ws[1]]
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == 3
    # Names as the roster spells them.
    names = [r[header.index("Họ và tên")].value for r in rows]
    assert sorted(names) == sorted(exported["names"]) and "Tran Van Binh" not in names
    # Submission times: date cells in Vietnam time, to the second, with a date format; no text.
    cells = [r[header.index("Nộp bài lúc")] for r in rows]
    assert all(isinstance(c.value, dt.datetime) and c.value.microsecond == 0 for c in cells)
    assert all(c.number_format == "dd/mm/yyyy hh:mm:ss" for c in cells)
    expected = sorted(f.astimezone(VN_TZ).replace(tzinfo=None, microsecond=0) for f in exported["finished"])
    assert sorted(c.value for c in cells) == expected
    assert wb["Giải tập thể"]["F2"].number_format == "0.0%"

    info = {r[0]: r[1] for r in wb["Thông tin"].iter_rows(min_row=2, values_only=True)}
    assert info["Hội thi"] == TITLE
    assert info["Nội dung dự đoán"] == "Số người trả lời đúng tất cả các câu hỏi"
    assert info["Cách xếp hạng"] == (
        "Xếp theo điểm từ cao xuống thấp; nếu bằng điểm thì ai dự đoán gần kết quả thực tế hơn xếp trên; "
        "nếu vẫn bằng nhau thì ai làm bài trong thời gian ngắn hơn xếp trên; nếu vẫn bằng nhau thì ai nộp bài "
        "sớm hơn xếp trên; cuối cùng, ai đăng ký dự thi sớm hơn xếp trên."
    )
    assert isinstance(info["Mở đợt thi lúc"], dt.datetime) and isinstance(info["Công bố kết quả lúc"], dt.datetime)
    text = " ".join(str(v) for pair in info.items() for v in pair)
    for internal in ("all_correct_count", "participant_count", "score", "prediction", "duration", ">", "_"):
        assert internal not in text, internal

    csv_text = (exported["out"] / f"ket-qua-{STEM}.csv").read_bytes().decode("utf-8-sig")
    day = expected[0].strftime("%d/%m/%Y")
    assert day in csv_text and "Trần Văn Bình" in csv_text and "Tran Van Binh" not in csv_text


async def test_every_sheet_prints_one_page_wide_with_its_header_on_each_page(exported: dict[str, Any]) -> None:
    wb = load_workbook(exported["out"] / f"ket-qua-{STEM}.xlsx")
    assert wb.sheetnames[0] == "Xếp hạng" and "Thông tin" in wb.sheetnames
    for ws in wb.worksheets:
        assert ws.print_title_rows == "$1:$1", ws.title
        assert ws.freeze_panes == "A2"
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert str(ws.page_setup.paperSize) == str(ws.PAPERSIZE_A4)
        last = ws.cell(1, ws.max_column).column_letter
        area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
        assert area.endswith(f"!$A$1:${last}${ws.max_row}"), area
        for col in range(1, ws.max_column + 1):
            assert 6 <= ws.column_dimensions[ws.cell(1, col).column_letter].width <= 80
        # Each printed page says what it is and which page it is.
        assert ws.oddHeader.center.text.startswith(f"{TITLE} – Đợt 1"), ws.oddHeader.center.text
        assert ws.oddFooter.center.text == "Trang &P/&N"
    assert wb["Xếp hạng"].page_setup.orientation == "landscape"
    assert wb["Giải tập thể"].page_setup.orientation == "landscape"
    assert wb["Thông tin"].page_setup.orientation == "portrait"
    # The name column is wide enough for the names it holds.
    ws = wb["Xếp hạng"]
    assert ws.column_dimensions["B"].width >= max(len(n) for n in exported["names"])


def _text_boxes(page: Any) -> list[tuple[str, float, float, float, float]]:
    """Each piece of text on the page with its box in mm from the top-left corner: (text, left, right, top,
    bottom). Widths are measured with the bold face, the wider one, so the check errs on the safe side."""
    _regular, bold = certificates.font_paths()
    ruler = FPDF()
    ruler.add_font("b", "", str(bold))
    pt = 25.4 / 72
    boxes: list[tuple[str, float, float, float, float]] = []

    def visit(text: str, cm: Any, tm: Any, _font: Any, size: float) -> None:
        if not text.strip():
            return
        ruler.set_font("b", "", size)
        x, baseline = tm[4] * pt, 210 - tm[5] * pt
        boxes.append((text, x, x + ruler.get_string_width(text), baseline - size * pt, baseline + 0.3 * size * pt))

    page.extract_text(visitor_text=visit)
    return boxes


async def test_certificates_carry_number_place_date_and_signer_inside_the_frame(exported: dict[str, Any]) -> None:
    reader = PdfReader(io.BytesIO((exported["out"] / f"giay-chung-nhan-{STEM}.pdf").read_bytes()))
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) == 3
    best = pages[0]
    assert "GIẤY KHEN" in best and "Trần Văn Bình" in best and "Tran Van Binh" not in best
    assert "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO" in best and "Số: 1/GK-PGDĐT" in best
    assert "Thanh Trì, ngày 28 tháng 11 năm 2026" in best  # published on 28/11/2026, Vietnam time
    assert "TRƯỞNG BAN TỔ CHỨC" in best and "Nguyễn Thị Hồng Nhung" in best
    numbers = [next(line for line in p.splitlines() if line.startswith("Số: ")) for p in pages]
    assert len(set(numbers)) == 3
    for page in reader.pages:
        boxes = _text_boxes(page)
        assert len(boxes) >= 8
        for text, left, right, top, bottom in boxes:
            # The frame is 10 mm inside the edge of a 297 × 210 mm page: keep 8 mm clear of it.
            assert left >= 18 and right <= 279 and top >= 18 and bottom <= 192, (text, left, right, top, bottom)
        by_text = {b[0]: b for b in boxes}
        title = next(b for t, b in by_text.items() if "TRƯỞNG BAN TỔ CHỨC" in t)
        name = next(b for t, b in by_text.items() if "Nguyễn Thị Hồng Nhung" in t)
        assert name[3] - title[4] >= 20  # room for the signature and the seal


def test_certificate_settings_are_checked_with_vietnamese_messages(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "content" / "quizzes" / "contests" / "ngay-hoi-2027.yaml"
    d = load_contest(example)
    assert d.certificates.signer_title and d.certificates.number_prefix  # the example shows the fields
    text = example.read_text(encoding="utf-8")
    for bad, message in (
        ("  number_prefix: gk pgd\n", "number_prefix chỉ gồm chữ in hoa"),
        ("  signer_name: Lê Văn Tám\n  signer_title: ''\n", "cần cả signer_title"),
    ):
        lines = [line for line in text.splitlines(keepends=True) if not line.startswith(("  signer_", "  number_"))]
        at = next(i for i, line in enumerate(lines) if line.startswith("certificates:")) + 1
        path = tmp_path / "bad.yaml"
        path.write_text("".join(lines[:at]) + bad + "".join(lines[at:]), encoding="utf-8")
        with pytest.raises(DefinitionError) as exc:
            load_contest(path)
        assert message in str(exc.value) and "Value error" not in str(exc.value), str(exc.value)
        assert "bad.yaml: certificates" in str(exc.value)


async def test_the_terminal_shows_states_and_times_in_vietnamese(
    exported: dict[str, Any], app: App, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_contest(
        app,
        contest_def(
            clock(),
            id="sap-toi",
            title="Hội thi sắp tới",
            rounds=[
                {"name": "Đợt 1", "opens_at": "2027-08-19T07:00:00+07:00", "closes_at": "2027-08-19T21:00:00+07:00"}
            ],
        ),
    )
    capsys.readouterr()
    assert await _cli(app, "list") == 0
    out = capsys.readouterr().out
    assert "07:00 19/08/2027 → 21:00 19/08/2027\tchưa mở" in out
    assert "đã công bố kết quả" in out
    assert await _cli(app, "results", "thu-nghiem") == 0
    out = capsys.readouterr().out
    assert "Trần Văn Bình" in out and re.search(r"\t\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\t", out), out
    for english in ("scheduled", "published", "open", "closed", "Z\t", "+00:00", "UTC"):
        assert english not in out, english
