"""Renders a report's files: the DOCX, the XLSX annex and the PNG charts."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.text import slugify
from bot.reports.service import ReportData

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class ReportFile:
    filename: str
    content: bytes
    mime_type: str


def file_stem(data: ReportData) -> str:
    """The period and the scope by name: "2026-H1-toan-dac-khu", "2026-truong-thcs-le-loi", "2026-H1-lop-7a-7b"."""
    if data.district_wide:
        where = "toan-dac-khu"
    elif data.scope.class_ids is None:
        where = slugify(data.school_name or "truong", 60)
    else:
        names = [slugify(c.name, 20) for c in data.figures.classes.values()]
        where = slugify("lop " + " ".join(names), 60) if names else "lop"
        if len(names) > 6:
            where = slugify(f"{data.school_name or ''} cac lop", 60)
    return f"{data.period.tag}-{where}"


def docx_name(data: ReportData) -> str:
    return f"bao-cao-{file_stem(data)}.docx"


def xlsx_name(data: ReportData) -> str:
    return f"phu-luc-{file_stem(data)}.xlsx"


def render_report(data: ReportData) -> list[ReportFile]:
    """DOCX first (the report), then the XLSX annex, then the charts it embeds."""
    from bot.reports.charts import all_charts  # matplotlib loads only when a report is made (slow to import)
    from bot.reports.docx_report import build_docx  # python-docx, likewise
    from bot.reports.xlsx_annex import build_xlsx  # openpyxl, likewise

    charts = all_charts(data)
    stem = file_stem(data)
    files = [
        ReportFile(docx_name(data), build_docx(data, charts), DOCX_MIME),
        ReportFile(xlsx_name(data), build_xlsx(data), XLSX_MIME),
    ]
    files += [ReportFile(name.replace(".png", f"-{stem}.png"), png, "image/png") for name, png in charts.items()]
    return files
