"""The XLSX annex: one sheet per table (summary, school, class, topic, month, contests), numbers kept as numbers."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports import tables
from bot.reports.service import ReportData

HEADER_FILL = PatternFill("solid", fgColor="D9E2F3")


def _printable(ws: Worksheet, columns: int) -> None:
    """A4 pages one page wide (as many long as needed), the header row on every page, landscape when wide."""
    ws.print_title_rows = "3:3"
    ws.print_area = f"A1:{get_column_letter(columns)}{max(ws.max_row, 3)}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if columns > 5 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.oddFooter.center.size = 9


def build_xlsx(data: ReportData) -> bytes:
    wb = Workbook(write_only=False)
    wb.remove(wb.active)
    where = data.school_name or "Toàn đặc khu"
    for table in tables.all_tables(data):
        ws = wb.create_sheet(table.title)
        ws.append([f"{table.title} – {where} – {data.period.phrase}"])
        ws.append([f"Số liệu từ ngày {data.period.first:%d/%m/%Y} đến ngày {data.period.last:%d/%m/%Y}"])
        ws["A1"].font = Font(bold=True, size=12)
        ws.append(table.header)
        for cell in ws[3]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        for row in table.rows:
            ws.append(row)
        ws.freeze_panes = "A4"
        for i, head in enumerate(table.header, 1):
            longest = max([len(str(head))] + [len(str(r[i - 1])) for r in table.rows[:200] if r[i - 1] is not None])
            ws.column_dimensions[get_column_letter(i)].width = min(45, max(8, longest + 2))
        _printable(ws, len(table.header))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
