"""The console's own "/as" switches the demo user only when written as a word; bot commands are never eaten."""

from __future__ import annotations

import io

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession, run_console, switch_to
from tests.core.test_console_flows import onboard_student


async def console_output(app: App, lines: list[str]) -> str:
    feed = iter([*(line + "\n" for line in lines), ""])
    out = io.StringIO()
    await run_console(app.dispatcher, "banner", stdout=out, readline=lambda: next(feed))
    return out.getvalue()


async def test_assigned_runs_the_command_and_does_not_switch_user(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    await onboard_student(app, ConsoleSession(app.dispatcher, user="hs"), demo.class_code)

    out = await console_output(app, ["/assigned", "/as gv", "/as", "/quit"])

    assert "signed" not in out
    assert "Em chưa có bài nào được giao" in out  # the student "hs" saw their assigned lessons
    assert "(Bây giờ em là: gv)" in out and "[gv] >" in out
    assert out.rstrip().endswith("[hs] >")  # "/as" alone goes back to the first student


def test_only_the_word_as_switches() -> None:
    assert switch_to("/as gv") == "gv"
    assert switch_to("  /as   btc  ") == "btc"
    assert switch_to("/as") == "hs"
    assert switch_to("/assigned") is None
    assert switch_to("/ask") is None
    assert switch_to("as gv") is None
    # A bot command named "as" takes precedence over the console's switch.
    assert switch_to("/as gv", bot_commands={"as", "help"}) is None
