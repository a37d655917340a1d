"""Excel export/import of the question bank: lossless round trip; a bad workbook changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.content.loader import DEFAULT_CONTENT_DIR, load_content
from bot.content.models import TOPICS
from bot.content.xlsx import COLUMNS, export_bank, import_bank


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(DEFAULT_CONTENT_DIR, tmp_path / "content")
    return tmp_path / "content"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.yaml"))}


def test_export_has_one_sheet_per_topic(root: Path, tmp_path: Path) -> None:
    book = tmp_path / "bank.xlsx"
    export_bank(load_content(root), book)
    wb = load_workbook(book)
    assert wb.sheetnames == list(TOPICS)
    assert [c.value for c in wb["ma-tuy"][1]] == list(COLUMNS)


def test_round_trip_is_lossless(root: Path, tmp_path: Path) -> None:
    before = load_content(root)
    book = tmp_path / "bank.xlsx"
    export_bank(before, book)
    assert import_bank(book, root) == []
    after = load_content(root)
    assert after.ok, after.errors
    assert list(after.questions) == list(before.questions)
    assert after.questions == before.questions
    assert after.question_topic == before.question_topic
    assert after.lessons == before.lessons


def test_malformed_workbook_changes_nothing(root: Path, tmp_path: Path) -> None:
    book = tmp_path / "bank.xlsx"
    export_bank(load_content(root), book)
    wb = load_workbook(book)
    col = {name: i + 1 for i, name in enumerate(COLUMNS)}
    ws = wb["an-toan-giao-thong"]
    ws.cell(row=2, column=col["answer"], value="E")
    ws.cell(row=3, column=col["source"], value="nghi-dinh-khong-co")
    ws.cell(row=4, column=col["stem"]).value = None
    wb.save(book)
    before = snapshot(root)
    errors = import_bank(book, root)
    assert snapshot(root) == before
    assert any(e.startswith("sheet an-toan-giao-thong, row 2: answer:") for e in errors), errors
    assert any(e.startswith("sheet an-toan-giao-thong, row 3: source:") for e in errors), errors
    assert any(e.startswith("sheet an-toan-giao-thong, row 4: stem:") for e in errors), errors


def test_duplicate_id_in_workbook_is_rejected(root: Path, tmp_path: Path) -> None:
    book = tmp_path / "bank.xlsx"
    export_bank(load_content(root), book)
    wb = load_workbook(book)
    ws = wb["ma-tuy"]
    ws.cell(row=3, column=1, value=ws.cell(row=2, column=1).value)
    wb.save(book)
    before = snapshot(root)
    errors = import_bank(book, root)
    assert snapshot(root) == before
    assert any(e.startswith("sheet ma-tuy, row 3: id: duplicate") for e in errors), errors
