"""`python -m bot content check` speaks to the person at the terminal in Vietnamese (the JSON keeps its keys)."""

from __future__ import annotations

import argparse

import pytest

from bot.content.cli import cmd_check
from bot.content.loader import DEFAULT_CONTENT_DIR


def test_content_check_reports_in_vietnamese(capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_check(DEFAULT_CONTENT_DIR, argparse.Namespace(json=False)) == 0
    out = capsys.readouterr().out
    assert "Văn bản pháp luật: " in out and "không có lỗi." in out and "bài tiểu học" in out and "câu hỏi" in out
    for english in ("sources", "OK", "primary", "lessons", "questions", "errors"):
        assert english not in out, english
