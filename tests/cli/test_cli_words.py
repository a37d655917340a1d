"""The command line's own words (usage, section titles, -h, errors) are Vietnamese, like the commands' help."""

from __future__ import annotations

import pytest

from bot.app import build_parser


def test_help_and_errors_speak_vietnamese(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    text = parser.format_help()
    assert text.startswith("Cách dùng: python -m bot") and "lệnh và tham số:" in text and "tùy chọn:" in text
    assert "xem hướng dẫn này" in text
    for english in ("usage:", "positional arguments", "options:", "show this help message"):
        assert english not in text, english

    for argv, expected in (
        (["contest", "export", "ngay-hoi-2027"], "lỗi: thiếu tham số bắt buộc: --out"),
        (["contest", "nope"], "lỗi: lệnh: không có 'nope'"),
        (["report", "--bogus"], "lỗi: không hiểu: --bogus"),
        (["contest", "export", "x", "--out", "d", "--round", "z"], "lỗi: --round: giá trị không hợp lệ: 'z'"),
    ):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert expected in err and "Cách dùng:" in err, err
        assert "error:" not in err and "usage:" not in err and "required" not in err, err
    sub_help = build_parser()._subparsers._group_actions[0].choices["contest"].format_help()  # type: ignore[union-attr]
    assert "Cách dùng: python -m bot contest" in sub_help and "tùy chọn:" in sub_help
