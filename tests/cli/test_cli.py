"""The command line as a newcomer uses it: `python -m bot run` in a terminal, `content check --json`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from bot.content.models import TOPICS
from tests.fakes.content import write_test_content

ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    args: list[str], tmp_path: Path, stdin: str = "", extra_env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "DATABASE_URL"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PYTHONIOENCODING": "utf-8"})
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_run_without_a_token_starts_the_console_with_the_demo_school(tmp_path: Path) -> None:
    content = write_test_content(tmp_path / "content")
    first = run_cli(["run"], tmp_path, stdin="", extra_env={"CONTENT_DIR": str(content)})
    assert first.returncode == 0, first.stderr
    code = re.search(r"mã lớp: ([A-Z0-9]+)", first.stdout)
    assert code, first.stdout
    assert "/as gv" in first.stdout
    # The web console starts beside it with a sign-in link for the demo organizer (or says its port is taken).
    assert re.search(
        r"Trang quản lý trên web (\(ban tổ chức thử nghiệm\): http://127\.0\.0\.1:\d+/dang-nhap\?t=|không mở được)",
        first.stdout,
    )
    # A student types through the whole onboarding in the terminal.
    script = "\n".join(["/start", "1", "1", code.group(1), "Phạm Minh Châu", "/help", "/quit"]) + "\n"
    second = run_cli(["run"], tmp_path, stdin=script, extra_env={"CONTENT_DIR": str(content)})
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert f"mã lớp: {code.group(1)}" in out  # the same demo school on the second start
    assert "Em đã vào lớp 7A" in out and "Cảm ơn Phạm Minh Châu" in out and "115" in out
    assert "Traceback" not in second.stderr


def test_content_check_json_has_the_promised_shape(tmp_path: Path) -> None:
    content = write_test_content(tmp_path / "content")
    result = run_cli(["content", "check", "--json"], tmp_path, extra_env={"CONTENT_DIR": str(content)})
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"ok", "errors", "topics", "sources"}
    assert data["ok"] is True and data["errors"] == [] and data["sources"] == 3
    assert set(data["topics"]) == set(TOPICS)
    for topic in TOPICS:
        assert data["topics"][topic]["lessons"] == {"primary": 1, "lower_secondary": 1}
    assert data["topics"]["ma-tuy"]["questions"] == 10 and data["topics"]["an-toan-mang"]["questions"] == 8


def test_content_check_names_the_file_and_field_and_fails(tmp_path: Path) -> None:
    content = write_test_content(tmp_path / "content")
    bank = content / "quizzes" / "an-toan-mang.yaml"
    data = yaml.safe_load(bank.read_text(encoding="utf-8"))
    data["questions"][2]["answer"] = 7
    data["questions"][3]["citation"]["source"] = "khong-co"
    bank.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run_cli(["content", "check", "--json"], tmp_path, extra_env={"CONTENT_DIR": str(content)})
    assert result.returncode == 1
    errors = json.loads(result.stdout)["errors"]
    assert any(e.startswith("content/quizzes/an-toan-mang.yaml: questions[2]") and "out of range" in e for e in errors)
    assert any("questions[3].citation.source" in e and "khong-co" in e for e in errors)


def test_help_lists_the_subcommands(tmp_path: Path) -> None:
    result = run_cli(["--help"], tmp_path)
    assert result.returncode == 0
    for sub in ("run", "db", "content", "seed"):
        assert sub in result.stdout


def test_the_antt_bot_command_of_the_virtual_environment_is_the_same_command_line(tmp_path: Path) -> None:
    """The README shows `.venv/bin/antt-bot ...`: installed with the project, it answers like `python -m bot`."""
    command = Path(sys.executable).with_name("antt-bot")
    assert command.exists(), "pip install -e . installs the antt-bot command beside the environment's python"
    done = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and "contest" in done.stdout and "report" in done.stdout
