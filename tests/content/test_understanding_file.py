"""The word lists and the hotlines are data a school edits: what it adds is used, numbers change without code,
and a mistake is reported in Vietnamese with the file and the field."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content.loader import DEFAULT_CONTENT_DIR, load_content
from bot.core.safety import hotline_lines
from bot.core.understanding import is_distress


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(DEFAULT_CONTENT_DIR, tmp_path / "content")
    return tmp_path / "content"


def edit(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_shipped_files_load() -> None:
    content = load_content()
    assert content.ok, content.errors
    assert content.understanding is not None
    assert [h.number for h in content.understanding.hotlines] == ["111", "112", "113", "114", "115"]


def test_a_phrase_a_school_adds_is_understood(root: Path) -> None:
    edit(root / "understanding.yaml", lambda d: d["distress"].append("bị ... trêu chọc"))
    content = load_content(root)
    assert content.ok, content.errors
    assert content.understanding is not None
    assert is_distress("em bị mấy bạn trêu chọc hoài", content.understanding.lexicon)
    assert is_distress("em bi may ban treu choc", content.understanding.lexicon)


def test_a_hotline_number_changes_without_code(root: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        for h in d["hotlines"]:
            if h["key"] in ("police", "fire", "ambulance"):
                h["number"] = "199"

    edit(root / "hotlines.yaml", change)
    content = load_content(root)
    assert content.ok, content.errors
    assert content.understanding is not None
    lines = hotline_lines(content.understanding, "vi")
    assert "• 199 – Công an: khi có kẻ xấu, trộm cắp, đánh nhau, hoặc ai đó rủ em dùng ma túy." in lines
    assert not any(line.startswith(("• 113", "• 114", "• 115")) for line in lines)


@pytest.mark.parametrize(
    ("file", "change", "error"),
    [
        (
            "understanding.yaml",
            lambda d: d["intents"].update({"choi_game": ["chơi game"]}),
            "content/understanding.yaml: intents.choi_game: không có chức năng này",
        ),
        (
            "understanding.yaml",
            lambda d: d["distress"].append("..."),
            "content/understanding.yaml: distress[",
        ),
        (
            "understanding.yaml",
            lambda d: d["distress"].append(d["distress"][0]),
            "bị trùng với distress[0]",
        ),
        (
            "understanding.yaml",
            lambda d: d.update({"spelling": {"ko": "không"}}),
            "content/understanding.yaml: spelling: mục không có trong mẫu",
        ),
        (
            "hotlines.yaml",
            lambda d: d["hotlines"].pop(0),
            "content/hotlines.yaml: hotlines: còn thiếu số cho: child",
        ),
        (
            "hotlines.yaml",
            lambda d: d["hotlines"][0].update({"number": "một một một"}),
            "content/hotlines.yaml: hotlines[0].number: “một một một” không phải số điện thoại",
        ),
        (
            "hotlines.yaml",
            lambda d: d["hotlines"][0]["name"].pop("vi"),
            "content/hotlines.yaml: hotlines[0].name: phải có tiếng Việt (vi)",
        ),
    ],
)
def test_mistakes_are_reported_in_vietnamese_with_file_and_field(
    root: Path, file: str, change: Callable[[Any], None], error: str
) -> None:
    edit(root / file, change)
    content = load_content(root)
    assert not content.ok
    assert any(error in e for e in content.errors), content.errors
    assert content.understanding is None


def test_a_missing_file_is_an_error(root: Path) -> None:
    (root / "hotlines.yaml").unlink()
    assert "content/hotlines.yaml: (file): thiếu file này" in load_content(root).errors
