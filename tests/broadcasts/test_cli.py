"""The command line for bulk work: import a roster, create a broadcast, list it, see its status."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.broadcasts.roster_xlsx import write_roster
from bot.content.loader import Content


def test_cli_imports_a_roster_and_creates_and_reports_a_broadcast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], test_content: Content
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CONTENT_DIR", str(test_content.root))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("ZALO_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    assert main(["seed", "demo"]) == 0
    code = re.search(r"mã lớp: (\w+)", capsys.readouterr().out).group(1)  # type: ignore[union-attr]

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(write_roster([("Nguyễn Văn An", "HS01"), ("An 2", None)]))
    assert main(["class", "import-roster", "--class-code", code, str(bad)]) == 1
    out = capsys.readouterr().out
    assert "Dòng 3:" in out and "Không ghi gì vì có lỗi." in out

    good = tmp_path / "good.xlsx"
    good.write_bytes(write_roster([("Nguyễn Văn An", "HS01"), ("Trần Thị Bình", None)]))
    assert main(["class", "import-roster", "--class-code", code.lower(), str(good)]) == 0
    assert "đã thêm 2 học sinh" in capsys.readouterr().out
    assert main(["class", "list"]) == 0
    out = capsys.readouterr().out
    assert f"{code}\t7A" in out and "0 đã vào lớp\t2 trong danh sách" in out

    # No student joined yet: refused with a clear sentence, nothing stored.
    assert main(["broadcast", "create", "--lesson", "ma-tuy-lower-secondary-1", "--class-code", code]) == 1
    assert "chưa có học sinh nào" in capsys.readouterr().out
    assert main(["broadcast", "create", "--lesson", "no-such", "--class-code", code]) == 1
    assert "Không tìm thấy bài học này" in capsys.readouterr().out
    assert main(["broadcast", "list"]) == 0 and capsys.readouterr().out == ""
    assert main(["broadcast", "send"]) == 1
    assert "Không có kênh nào để gửi" in capsys.readouterr().out

    async def a_student_joins() -> None:
        from bot.app import build_app
        from bot.channels.console.app import ConsoleSession
        from bot.config import Settings
        from tests.core.test_console_flows import onboard_student

        app = build_app(Settings())
        try:
            await onboard_student(app, ConsoleSession(app.dispatcher, user="hs"), code, "Trần Thị Bình")
        finally:
            await app.close()

    asyncio.run(a_student_joins())
    assert main(["broadcast", "create", "--practice", "an-toan-mang", "--class-code", code, "--due", "2099-12-31"]) == 0
    out = capsys.readouterr().out
    assert "Đã tạo lần gửi #1" in out and "1 học sinh" in out
    assert main(["broadcast", "list"]) == 0
    out = capsys.readouterr().out
    # What the subject is and where each message stands, in Vietnamese; the time is Vietnam's.
    assert "#1\t" in out and "\tluyện tập\t" in out and "đang chờ 1" in out
    assert not re.search(r"practice|lesson|pending|sent|\d\dZ", out), out
    assert main(["broadcast", "status", "1"]) == 0
    out = capsys.readouterr().out
    assert "đang chờ 1" in out and "Học sinh: 1; đã nhận 0" in out
    assert main(["class", "list"]) == 0
    assert "1 đã vào lớp\t2 trong danh sách" in capsys.readouterr().out
