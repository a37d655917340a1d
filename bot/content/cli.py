"""`python -m bot content check [--json] | export-xlsx FILE | import-xlsx FILE`: validate and edit the content."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.content import xlsx
from bot.content.checks import extra_checks
from bot.content.loader import load_content


def cmd_check(content_dir: Path, args: argparse.Namespace) -> int:
    content = load_content(content_dir)
    if content.ok:
        content.errors.extend(extra_checks(content))
    summary = content.summary()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for err in summary["errors"]:
            print(err)
        for topic, t in summary["topics"].items():
            print(
                f"{topic}: {t['lessons']['primary']} bài tiểu học, {t['lessons']['lower_secondary']} bài THCS, "
                f"{t['questions']} câu hỏi"
            )
        verdict = "không có lỗi" if summary["ok"] else f"{len(summary['errors'])} lỗi"
        print(f"Văn bản pháp luật: {summary['sources']}; {verdict}.")
    return 0 if summary["ok"] else 1


def cmd_xlsx(content_dir: Path, args: argparse.Namespace) -> int:
    if args.content_cmd == "export-xlsx":
        xlsx.export_bank(load_content(content_dir), Path(args.file))
        print(f"Đã xuất ngân hàng câu hỏi ra {args.file}")
        return 0
    errors = xlsx.import_bank(Path(args.file), content_dir)
    for err in errors:
        print(err)
    print("Không ghi gì vì có lỗi." if errors else "Đã nhập ngân hàng câu hỏi.")
    return 1 if errors else 0


def register(subparsers: Any, content_dir: Callable[[], Path]) -> None:
    """`content_dir()`: the folder the settings name (CONTENT_DIR), read when a command runs."""
    content = subparsers.add_parser("content", help="nội dung bài học và câu hỏi")
    c_sub = content.add_subparsers(dest="content_cmd", required=True)
    check = c_sub.add_parser("check", help="kiểm tra toàn bộ nội dung")
    check.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    check.set_defaults(func=lambda args: cmd_check(content_dir(), args))
    for name, text in (
        ("export-xlsx", "xuất ngân hàng câu hỏi ra Excel"),
        ("import-xlsx", "nhập câu hỏi từ Excel"),
    ):
        p = c_sub.add_parser(name, help=text)
        p.add_argument("file")
        p.set_defaults(func=lambda args: cmd_xlsx(content_dir(), args))
