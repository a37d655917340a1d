"""Renders a report's files: the DOCX, the XLSX annex and the PNG charts."""

from __future__ import annotations

from dataclasses import dataclass

from bot.reports.service import ReportData

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class ReportFile:
    filename: str
    content: bytes
    mime_type: str


def file_stem(data: ReportData) -> str:
    scope = data.scope_label.replace(":", "-").replace(",", "-")
    if scope.startswith("classes-") and len(scope) > 40:
        scope = "lop"
    return f"{data.period.tag}-{'toan-dac-khu' if scope == 'all' else scope}"


def render_report(data: ReportData) -> list[ReportFile]:
    """DOCX first (the report), then the XLSX annex, then the charts it embeds."""
    from bot.reports.charts import all_charts  # matplotlib loads only when a report is made (slow to import)
    from bot.reports.docx_report import build_docx  # python-docx, likewise
    from bot.reports.xlsx_annex import build_xlsx  # openpyxl, likewise

    charts = all_charts(data)
    stem = file_stem(data)
    files = [
        ReportFile(f"bao-cao-{stem}.docx", build_docx(data, charts), DOCX_MIME),
        ReportFile(f"phu-luc-{stem}.xlsx", build_xlsx(data), XLSX_MIME),
    ]
    files += [ReportFile(name.replace(".png", f"-{stem}.png"), png, "image/png") for name, png in charts.items()]
    return files
