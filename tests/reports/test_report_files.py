"""A report built from a seeded district: the DOCX has every part of the official format, and every figure in the
DOCX and the XLSX equals a count made here, independently, from the stored rows."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict
from typing import Any

import pytest
from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import App
from bot.core import activity as a
from bot.reports import tables
from bot.reports.options import ReportOptions
from bot.reports.render import ReportFile, render_report
from bot.reports.service import ReportData, build_report, parse_period
from db import models as m
from tests.reports.dataset import VN, Dataset, seed_dataset


class Expected:
    """Counts made in Python from every stored row, with Vietnam-time dates."""

    def __init__(self, rows: list[m.Activity], first: dt.date, last: dt.date, scope: dict[str, Any]) -> None:
        self.kinds: Counter[str] = Counter()
        self.students: set[int] = set()
        self.by: dict[str, dict[Any, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        self.students_by: dict[str, dict[Any, set[int]]] = defaultdict(lambda: defaultdict(set))
        for r in rows:
            day = r.at.astimezone(VN).date()
            if not first <= day <= last:
                continue
            if "school_id" in scope and r.school_id != scope["school_id"]:
                continue
            if "class_ids" in scope and r.class_id not in scope["class_ids"]:
                continue
            keys = {"school": r.school_id, "class": r.class_id, "topic": r.topic, "month": f"{day:%m/%Y}"}
            self.kinds[r.kind] += 1
            for dim, key in keys.items():
                self.by[dim][key][r.kind] += 1
            if r.kind in a.STUDENT_KINDS and r.user_id is not None:
                self.students.add(r.user_id)
                for dim, key in keys.items():
                    self.students_by[dim][key].add(r.user_id)


async def stored_rows(app: App) -> list[m.Activity]:
    async with app.sessions() as s:
        return list((await s.execute(select(m.Activity))).scalars())


async def make(
    app: App, actor_ext: str | None, scope: str, spec: str = "2026-H1"
) -> tuple[ReportData, list[ReportFile]]:
    options = ReportOptions()
    async with app.uow_factory() as uow:
        actor = await uow.users.by_account("console", actor_ext) if actor_ext else None
        data = await build_report(uow, actor, scope, parse_period(spec, options), options, app.clock())
        await uow.commit()
    return data, render_report(data)


def num(text: str) -> int | float | None:
    text = text.strip()
    if text == "–":
        return None
    text = text.replace(".", "")
    return float(text.replace(",", ".")) if "," in text else int(text)


def docx_tables(doc: Any) -> dict[tuple[str, ...], list[list[str]]]:
    """Data tables by their header row (first three cells)."""
    out = {}
    for t in doc.tables:
        rows = [[c.text for c in r.cells] for r in t.rows]
        out[tuple(rows[0][:3])] = rows
    return out


def all_text(doc: Any) -> str:
    """The document's text in reading order: paragraphs and table cells as they come."""
    parts: list[str] = []
    for block in doc.iter_inner_content():
        if isinstance(block, Paragraph):
            parts.append(block.text)
            continue
        for row in block.rows:
            for cell in row.cells:
                parts += [p.text for p in cell.paragraphs]
    return "\n".join(parts)


@pytest.fixture
async def district(app: App) -> Dataset:
    return await seed_dataset(app.uow_factory, app.clock())


async def test_docx_has_every_part_of_the_official_format(app: App, district: Dataset) -> None:
    _data, files = await make(app, "btc", "mine")
    assert [f.filename for f in files][:2] == ["bao-cao-2026-H1-toan-dac-khu.docx", "phu-luc-2026-H1-toan-dac-khu.xlsx"]
    doc = Document(io.BytesIO(files[0].content))
    text = all_text(doc)
    for part in (
        "UBND ĐẶC KHU KIÊN HẢI",  # the superior body
        "PHÒNG VĂN HÓA - XÃ HỘI",  # the issuing body
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "/BC-VHXH",
        "Kiên Hải, ngày 28 tháng 11 năm 2026",
        "BÁO CÁO",
        "Kết quả thực hiện phong trào toàn dân bảo vệ an ninh Tổ quốc trong các cơ sở giáo dục 6 tháng đầu năm 2026",
        "số liệu từ ngày 01/01/2026 đến ngày 15/06/2026",
        "I. KẾT QUẢ THỰC HIỆN",
        "II. TỒN TẠI, HẠN CHẾ",
        "III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
        "Nơi nhận:",
        "- Sở GD&ĐT tỉnh An Giang (để b/c);",
        "- Lưu: VT.",
        "TRƯỞNG PHÒNG",
        "(Ký, ghi rõ họ tên, đóng dấu)",
        "[Họ và tên người ký]",
    ):
        assert part in text, part
    assert text.index("CỘNG HÒA") < text.index("BÁO CÁO") < text.index("I. KẾT QUẢ") < text.index("II. TỒN TẠI")
    assert text.index("II. TỒN TẠI") < text.index("III. PHƯƠNG HƯỚNG") < text.index("Nơi nhận:")
    # The national title and motto are bold; the parts left to the author are marked and highlighted.
    header = doc.tables[0].rows[0].cells[1]
    assert all(r.bold for p in header.paragraphs[:2] for r in p.runs)
    marked = [r for p in doc.paragraphs for r in p.runs if r.text.startswith("[Đơn vị bổ sung nội dung")]
    assert len(marked) == 3 and all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in marked)
    # A4, margins of Nghị định 30, Times New Roman 14.
    s = doc.sections[0]
    mm = [round(x.mm) for x in (s.page_width, s.page_height, s.top_margin, s.bottom_margin)]
    assert mm[:2] == [210, 297] and 20 <= mm[2] <= 25 and 20 <= mm[3] <= 25
    assert 30 <= round(s.left_margin.mm) <= 35 and 15 <= round(s.right_margin.mm) <= 20
    assert doc.styles["Normal"].font.name == "Times New Roman" and doc.styles["Normal"].font.size == Pt(14)
    # Page numbers in the top margin from the second page on.
    assert s.different_first_page_header_footer and "PAGE" in s.header.paragraphs[0]._p.xml
    # Three charts, written as PNG files and embedded in the document.
    assert len(doc.inline_shapes) == 3
    pngs = [f for f in files if f.filename.endswith(".png")]
    assert len(pngs) == 3 and all(f.content.startswith(b"\x89PNG") for f in pngs)
    embedded = {p.blob for p in doc.part.package.parts if p.content_type == "image/png"}
    assert {f.content for f in pngs} <= embedded


async def test_every_docx_figure_equals_an_independent_count(app: App, district: Dataset) -> None:
    _data, files = await make(app, "btc", "all")
    exp = Expected(await stored_rows(app), dt.date(2026, 1, 1), dt.date(2026, 6, 15), {})
    assert exp.kinds[a.LESSON_OPENED] > 0 and all(exp.kinds[k] > 0 for k in a.ALL_KINDS)
    doc = Document(io.BytesIO(files[0].content))
    found = docx_tables(doc)

    enrolled = sum(len(v) for v in district.students.values())
    summary = {row[0]: num(row[1]) for row in found[("Chỉ tiêu", "Số lượng")][1:]}
    assert summary["Số học sinh trong các lớp"] == enrolled == 19
    assert summary["Số học sinh tham gia"] == len(exp.students)
    for kind in a.ALL_KINDS:
        assert summary[tables.KIND_LABELS[kind]] == exp.kinds[kind], kind
    text = all_text(doc)
    assert f"Số học sinh tham gia học tập, tìm hiểu pháp luật: {len(exp.students)}/{enrolled} học sinh" in text
    assert f"học sinh mở bài học: {exp.kinds[a.LESSON_OPENED]} lượt" in text
    assert f"Lượt tra cứu số điện thoại, địa chỉ trợ giúp khẩn cấp: {exp.kinds[a.HELP_VIEWED]}" in text

    doc_kinds = [tables.SHORT_LABELS[k] for k in tables.DOC_KINDS]
    schools = found[("STT", "Trường", "Sĩ số")]
    assert schools[0][5:] == doc_kinds
    names = {
        district.school_a: "Trường THCS Lê Lợi",
        district.school_b: "Trường Tiểu học Hòn Tre",
        None: "Chưa gắn trường",
    }
    by_name = {row[1]: row for row in schools[1:]}
    assert set(by_name) == set(names.values())
    for sid, name in names.items():
        row = by_name[name]
        assert num(row[3]) == len(exp.students_by["school"][sid])
        assert [num(v) for v in row[5:]] == [exp.by["school"][sid][k] for k in tables.DOC_KINDS]
    assert num(by_name["Trường THCS Lê Lợi"][2]) == 14 and num(by_name["Trường Tiểu học Hòn Tre"][2]) == 5

    classes = found[("STT", "Trường", "Lớp")]
    for name, cid in district.classes.items():
        (row,) = [r for r in classes[1:] if r[2] == name]
        assert num(row[3]) == len(district.students[name])
        assert num(row[4]) == len(exp.students_by["class"][cid])
        assert [num(v) for v in row[6:]] == [exp.by["class"][cid][k] for k in tables.DOC_KINDS]

    topics = found[("STT", "Chủ đề", "HS tham gia")]
    for row in topics[1:]:
        key = next((k for k, v in tables.TOPIC_LABELS.items() if v == row[1]), None)
        assert num(row[2]) == len(exp.students_by["topic"][key])
        assert [num(v) for v in row[3:]] == [exp.by["topic"][key][k] for k in tables.DOC_KINDS]

    # Contest results and prizes, from the contest records.
    contest_rows = found[("Hội thi", "Lượt đăng ký", "Bài thi đã nộp")][1:]
    rows = await stored_rows(app)
    for row in contest_rows:
        mine = [
            r
            for r in rows
            if r.ref == row[0] and dt.date(2026, 1, 1) <= r.at.astimezone(VN).date() <= dt.date(2026, 6, 15)
        ]
        scores = [r.value for r in mine if r.kind == a.CONTEST_SUBMITTED]
        assert num(row[1]) == sum(r.kind == a.CONTEST_ENTERED for r in mine)
        assert num(row[2]) == len(scores) and num(row[4]) == (max(scores) if scores else None)
        prizes = Counter(r.value for r in mine if r.kind == a.CONTEST_AWARDED)
        assert [num(v) for v in row[5:]] == [prizes[p] for p in (1, 2, 3, 4)]
    assert sum(num(r[2]) or 0 for r in contest_rows) == exp.kinds[a.CONTEST_SUBMITTED]


async def test_the_xlsx_annex_matches_the_stored_rows(app: App, district: Dataset) -> None:
    data, files = await make(app, "btc", "all")
    exp = Expected(await stored_rows(app), dt.date(2026, 1, 1), dt.date(2026, 6, 15), {})
    wb = load_workbook(io.BytesIO(files[1].content))
    assert wb.sheetnames == [
        "Tổng hợp",
        "Theo trường",
        "Theo lớp",
        "Theo chủ đề",
        "Theo tháng",
        "Hội thi",
        "Tiêu chuẩn ANTT",
        "Hộp thư an toàn",
    ]

    def sheet(name: str) -> list[list[Any]]:
        rows = [list(r) for r in wb[name].iter_rows(min_row=3, values_only=True)]
        return rows

    kinds = [tables.SHORT_LABELS[k] for k in a.ALL_KINDS]
    months = sheet("Theo tháng")
    assert months[0] == ["Tháng", "HS tham gia", *kinds]
    assert [r[0] for r in months[1:]] == ["01/2026", "02/2026", "03/2026", "04/2026", "05/2026", "06/2026"]
    for r in months[1:]:
        assert r[1] == len(exp.students_by["month"][r[0]])
        assert r[2:] == [exp.by["month"][r[0]][k] for k in a.ALL_KINDS]
    assert sum(r[2 + a.ALL_KINDS.index(a.LESSON_OPENED)] for r in months[1:]) == exp.kinds[a.LESSON_OPENED]

    schools = sheet("Theo trường")
    assert schools[0][:5] == ["STT", "Trường", "Sĩ số", "HS tham gia", "Tỉ lệ (%)"]
    school_ids = {"Trường THCS Lê Lợi": district.school_a, "Trường Tiểu học Hòn Tre": district.school_b}
    for r in schools[1:]:
        sid = school_ids.get(r[1])
        assert r[3] == len(exp.students_by["school"][sid])
        assert r[5:] == [exp.by["school"][sid][k] for k in a.ALL_KINDS]
        if sid is not None:
            assert r[4] == round(100 * r[3] / r[2], 1)

    classes = sheet("Theo lớp")
    for r in classes[1:]:
        cid = district.classes.get(r[2])
        assert r[5] == len(exp.students_by["class"][cid])
        assert r[7:] == [exp.by["class"][cid][k] for k in a.ALL_KINDS]
    assert {r[2] for r in classes[1:]} == {"A1", "A2", "B1", tables.NO_CLASS}

    topics = sheet("Theo chủ đề")
    for r in topics[1:]:
        key = next((k for k, v in tables.TOPIC_LABELS.items() if v == r[1]), None)
        assert r[3:] == [exp.by["topic"][key][k] for k in a.ALL_KINDS]

    summary = {r[0]: r[1] for r in sheet("Tổng hợp")[1:]}
    assert summary["Số học sinh tham gia"] == len(exp.students)
    assert all(summary[tables.KIND_LABELS[k]] == exp.kinds[k] for k in a.ALL_KINDS)
    assert len(sheet("Hội thi")) == 1 + len(data.figures.contests) == 3


async def test_a_school_admins_report_covers_only_their_school(app: App, district: Dataset) -> None:
    data, files = await make(app, "qtA", "mine", "2026")
    assert data.scope_label == f"school:{district.school_a}"
    # The reporting year 2026 runs from 16/11/2025 to 15/11/2026.
    assert (data.period.first, data.period.last) == (dt.date(2025, 11, 16), dt.date(2026, 11, 15))
    exp = Expected(await stored_rows(app), data.period.first, data.period.last, {"school_id": district.school_a})
    assert data.figures.totals.counts == {k: exp.kinds[k] for k in a.ALL_KINDS}
    assert data.figures.totals.students == len(exp.students)
    doc = Document(io.BytesIO(files[0].content))
    text = all_text(doc)
    assert "TRƯỜNG THCS LÊ LỢI" in text and "/BC-THCSLL" in text and "HIỆU TRƯỞNG" in text
    assert "tại Trường THCS Lê Lợi năm 2026" in text and "Hòn Tre" not in text
    assert "- Phòng Văn hóa - Xã hội đặc khu (để b/c);" in text
    classes = docx_tables(doc)[("STT", "Trường", "Lớp")]
    assert [r[2] for r in classes[1:]] == ["A1", "A2", tables.NO_CLASS]  # help lookups carry no class


async def test_a_one_month_period(app: App, district: Dataset) -> None:
    options = ReportOptions()
    period = parse_period(None, options, date_from="2026-03-01", date_to="2026-03-31")
    async with app.uow_factory() as uow:
        data = await build_report(uow, None, "all", period, options, app.clock())
    exp = Expected(await stored_rows(app), period.first, period.last, {})
    assert [(r.key, r.counts) for r in data.figures.by_month] == [(0, {k: exp.kinds[k] for k in a.ALL_KINDS})]
    assert data.period.phrase == "từ ngày 01/03/2026 đến ngày 31/03/2026"
