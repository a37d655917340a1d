"""Broken content is rejected, and the error names the file and the field."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.content.checks import extra_checks
from bot.content.loader import DEFAULT_CONTENT_DIR, load_content

LESSON = Path("lessons/ma-tuy/khong-nhan-do-la.yaml")
BANK = Path("quizzes/an-toan-giao-thong.yaml")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(DEFAULT_CONTENT_DIR, tmp_path / "content")
    return tmp_path / "content"


def edit(path: Path, change: Callable[[dict], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def only_error(root: Path) -> list[str]:
    content = load_content(root)
    assert not content.ok
    return content.errors


def test_law_card_without_citation(root: Path) -> None:
    def change(d: dict) -> None:
        law = next(c for c in d["cards"] if c["kind"] == "law")
        law["citations"] = []

    edit(root / LESSON, change)
    errors = only_error(root)
    assert any(
        e.startswith("content/lessons/ma-tuy/khong-nhan-do-la.yaml: cards[1]") and "cite" in e for e in errors
    ), errors


def test_unknown_source_id(root: Path) -> None:
    edit(root / BANK, lambda d: d["questions"][0]["citation"].update(source="luat-khong-co"))
    errors = only_error(root)
    assert any(
        e.startswith("content/quizzes/an-toan-giao-thong.yaml: questions[0].citation.source") and "luat-khong-co" in e
        for e in errors
    ), errors


def test_duplicate_id(root: Path) -> None:
    edit(root / BANK, lambda d: d["questions"][1].update(id=d["questions"][0]["id"]))
    errors = only_error(root)
    assert any(
        e.startswith("content/quizzes/an-toan-giao-thong.yaml: questions[1].id") and "duplicate" in e for e in errors
    ), errors


def test_answer_out_of_range(root: Path) -> None:
    edit(root / BANK, lambda d: d["questions"][2].update(answer=7))
    errors = only_error(root)
    assert any(
        e.startswith("content/quizzes/an-toan-giao-thong.yaml: questions[2]") and "out of range" in e for e in errors
    ), errors


def test_item_dated_outside_its_source(root: Path) -> None:
    # Luật 73/2021 ends on 2026-06-30; an item claiming validity to 2026-12-31 is wrong.
    def change(d: dict) -> None:
        q = next(q for q in d["questions"] if q["citation"]["source"] == "luat-pcmt-2021")
        q["valid_until"] = "2026-12-31"

    edit(root / "quizzes/ma-tuy.yaml", change)
    errors = only_error(root)
    assert any(
        e.startswith("content/quizzes/ma-tuy.yaml: questions[") and "citation.source" in e and "until 2026-06-30" in e
        for e in errors
    ), errors


def test_item_valid_before_its_source(root: Path) -> None:
    def change(d: dict) -> None:
        q = next(q for q in d["questions"] if q["citation"]["source"] == "luat-anm-2025")
        q["valid_from"] = "2026-01-01"

    edit(root / "quizzes/an-toan-mang.yaml", change)
    errors = only_error(root)
    assert any("content/quizzes/an-toan-mang.yaml" in e and "from 2026-07-01" in e for e in errors), errors


def test_extra_checks_report_near_duplicate_and_fine_deadline(root: Path) -> None:
    def change(d: dict) -> None:
        copy = dict(d["questions"][0])
        copy["id"] = "atgt-ban-sao"
        copy["stem"] = copy["stem"].replace("bao nhiêu", "bao nhiêu nhỉ")
        d["questions"].append(copy)
        fine = next(q for q in d["questions"] if q["citation"]["source"] == "nd-168-2024")
        del fine["valid_until"]

    edit(root / BANK, change)
    content = load_content(root)
    assert content.ok, content.errors
    errors = extra_checks(content)
    assert any("atgt-ban-sao" in e and "near-duplicate" in e for e in errors), errors
    assert any("valid_until" in e and "nd-168-2024" in e for e in errors), errors
