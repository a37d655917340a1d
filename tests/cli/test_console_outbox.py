"""`python -m bot run` on the console writes the files the bot sends to `data/outbox/` (CONSOLE_OUTBOX) and
prints where: an organizer's report, typed in the terminal."""

from __future__ import annotations

from pathlib import Path

from bot.core.clock import utc_now, vn_date
from bot.reports.options import ReportOptions
from bot.reports.service import offered_periods
from tests.cli.test_cli import run_cli
from tests.fakes.content import write_test_content


def test_the_console_writes_the_organizers_report_to_the_outbox(tmp_path: Path) -> None:
    content = write_test_content(tmp_path / "content")
    script = "\n".join(["/as btc", "/report", "1", "/quit"]) + "\n"
    result = run_cli(["run"], tmp_path, stdin=script, extra_env={"CONTENT_DIR": str(content)})
    assert result.returncode == 0, result.stderr
    assert "được lưu vào: data/outbox" in result.stdout  # the banner names the folder
    outbox = tmp_path / "data" / "outbox"
    names = sorted(p.name for p in outbox.iterdir())
    tag = offered_periods(vn_date(utc_now()), ReportOptions())[0].tag  # the current period, offered first
    assert names == [f"bao-cao-{tag}-toan-dac-khu.docx", f"phu-luc-{tag}-toan-dac-khu.xlsx"]
    for name in names:
        assert f"📎 {name} – đã lưu vào data/outbox/{name}" in result.stdout
        assert (outbox / name).read_bytes()[:2] == b"PK"  # a real DOCX / XLSX (zip) file
    assert "Traceback" not in result.stderr
