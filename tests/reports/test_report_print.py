"""What an office sees when it opens or prints the report: contests named by their titles, tables whose header
row repeats on every page, and an annex that prints one page wide with its header on each page."""

from __future__ import annotations

import datetime as dt
import io

from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from bot.app import App
from bot.core import activity as a
from tests.reports.dataset import Dataset, seed_dataset
from tests.reports.test_report_files import all_text, docx_tables, make

TITLE = "Hội thi tìm hiểu pháp luật về an toàn giao thông 2026"


async def _district_with_a_contest(app: App) -> tuple[Dataset, int]:
    district = await seed_dataset(app.uow_factory, app.clock(), rows=120)
    async with app.uow_factory() as uow:
        contest = await uow.contests.create("atgt-2026", TITLE, {}, None, app.clock())
        school, klass = district.school_a, district.classes["A1"]
        at = dt.datetime(2026, 3, 10, 3, tzinfo=dt.UTC)
        for user in district.students["A1"][:3]:
            await uow.activity.add(a.CONTEST_ENTERED, at, user, school, klass, None, str(contest.id), None)
            await uow.activity.add(a.CONTEST_SUBMITTED, at, user, school, klass, None, str(contest.id), 17)
        await uow.activity.add(a.CONTEST_AWARDED, at, user, school, klass, None, str(contest.id), 1)
        await uow.commit()
    return district, contest.id


async def test_the_report_names_a_contest_by_its_title(app: App) -> None:
    _district, contest_id = await _district_with_a_contest(app)
    _data, files = await make(app, "btc", "all")

    doc = Document(io.BytesIO(files[0].content))
    contests = docx_tables(doc)[("Hội thi", "Lượt đăng ký", "Bài thi đã nộp")]
    (row,) = [r for r in contests[1:] if r[0] == TITLE]
    assert row[1:3] == ["3", "3"] and row[5] == "1"  # 3 entries, 3 submitted, one Giải Nhất
    assert str(contest_id) not in [r[0] for r in contests[1:]]
    assert TITLE in all_text(doc)

    wb = load_workbook(io.BytesIO(files[1].content))
    names = [r[0] for r in wb["Hội thi"].iter_rows(min_row=4, values_only=True)]
    assert TITLE in names and str(contest_id) not in names
    # Schools and classes by their names too.
    assert {r[1] for r in wb["Theo lớp"].iter_rows(min_row=4, values_only=True)} >= {"Trường THCS Lê Lợi"}
    assert {r[2] for r in wb["Theo lớp"].iter_rows(min_row=4, values_only=True)} >= {"A1", "A2", "B1"}


async def test_docx_tables_repeat_their_header_row_on_each_page(app: App) -> None:
    await seed_dataset(app.uow_factory, app.clock(), rows=120)
    _data, files = await make(app, "btc", "all")
    doc = Document(io.BytesIO(files[0].content))
    data_tables = [t for t in doc.tables if t.style is not None and t.style.name == "Table Grid"]
    assert len(data_tables) >= 5
    for t in data_tables:
        first, *rest = t.rows
        tr_pr = first._tr.find(qn("w:trPr"))
        assert tr_pr is not None and tr_pr.find(qn("w:tblHeader")) is not None, first.cells[0].text
        # Only the header repeats; no row breaks across pages.
        for row in rest:
            pr = row._tr.find(qn("w:trPr"))
            assert pr is not None and pr.find(qn("w:tblHeader")) is None and pr.find(qn("w:cantSplit")) is not None


async def test_the_annex_prints_one_page_wide_with_its_header_on_each_page(app: App) -> None:
    await seed_dataset(app.uow_factory, app.clock(), rows=120)
    _data, files = await make(app, "btc", "all")
    wb = load_workbook(io.BytesIO(files[1].content))
    for ws in wb.worksheets:
        assert ws.print_title_rows == "$3:$3", ws.title
        assert ws.freeze_panes == "A4"
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert str(ws.page_setup.paperSize) == str(ws.PAPERSIZE_A4)
        last = ws.cell(3, ws.max_column).column_letter
        assert ws.print_area == [f"'{ws.title}'!$A$1:${last}${ws.max_row}"] or ws.print_area == (
            f"'{ws.title}'!$A$1:${last}${ws.max_row}"
        )
        assert ws.oddFooter.center.text == "Trang &P/&N"
        wide = ws.max_column > 5
        assert ws.page_setup.orientation == ("landscape" if wide else "portrait"), ws.title
        for col in range(1, ws.max_column + 1):
            width = ws.column_dimensions[ws.cell(3, col).column_letter].width
            assert 8 <= width <= 45
    assert wb["Theo lớp"].page_setup.orientation == "landscape"


async def test_file_names_come_from_the_names_of_the_school_and_the_classes(app: App) -> None:
    await seed_dataset(app.uow_factory, app.clock(), rows=40)
    _data, files = await make(app, "qtB", "mine")
    assert [f.filename for f in files][:2] == [
        "bao-cao-2026-H1-truong-tieu-hoc-hon-tre.docx",
        "phu-luc-2026-H1-truong-tieu-hoc-hon-tre.xlsx",
    ]
    _data, files = await make(app, "gv1", "mine")
    assert files[0].filename == "bao-cao-2026-H1-lop-a1.docx"
    assert all("classes" not in f.filename and "school" not in f.filename for f in files)
