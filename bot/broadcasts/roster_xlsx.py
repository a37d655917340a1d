"""Reads a roster sheet: a full-name column and an optional student-code column, with or without a header."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from bot.core.text import fold

NAME_HEADERS = ("ho va ten", "ho ten", "ten", "full name", "name")
CODE_HEADERS = ("ma hoc sinh", "ma hs", "ma", "student code", "code")


class RosterFileError(ValueError):
    """The file is not a readable XLSX workbook (message in Vietnamese)."""


def _header_columns(row: tuple[Any, ...]) -> tuple[int, int | None] | None:
    folded = [fold(str(v)) if v is not None else "" for v in row]
    name = next((i for i, v in enumerate(folded) if v in NAME_HEADERS), None)
    if name is None:
        return None
    code = next((i for i, v in enumerate(folded) if v in CODE_HEADERS and i != name), None)
    return name, code


def read_roster(source: Path | bytes) -> list[tuple[int, Any, Any]]:
    """(row number, full name, student code) for every row of the first sheet, after the header if any."""
    from openpyxl import load_workbook  # openpyxl (and numpy) load with the first sheet, not with the bot

    try:
        data = io.BytesIO(source) if isinstance(source, bytes) else source
        workbook = load_workbook(data, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a bad file
        raise RosterFileError("Không đọc được tệp. Thầy/cô lưu bảng dưới dạng Excel (.xlsx) rồi thử lại nhé.") from exc
    try:
        sheet = workbook.worksheets[0]
        out: list[tuple[int, Any, Any]] = []
        name_col, code_col = 0, 1
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number == 1:
                header = _header_columns(row)
                if header is not None:
                    name_col, code_col = header  # type: ignore[assignment]
                    continue
            name = row[name_col] if len(row) > name_col else None
            code = row[code_col] if code_col is not None and len(row) > code_col else None
            out.append((number, name, code))
        return out
    finally:
        workbook.close()


def write_roster(rows: list[tuple[str, str | None]], with_header: bool = True) -> bytes:
    """A roster sheet (used by tests and as a template for schools)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    if with_header:
        sheet.append(["Họ và tên", "Mã học sinh"])
    for name, code in rows:
        sheet.append([name, code])
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()
