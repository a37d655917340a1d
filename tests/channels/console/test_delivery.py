"""The console shows the teacher's and the organizer's whole work: the sender delivers console broadcasts
(they wait for their user and count as delivered) and every file the bot sends is written to the outbox."""

from __future__ import annotations

import io
from pathlib import Path

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession, run_console
from bot.channels.console.transport import ConsoleOutput, Outbox
from tests.broadcasts.fakes import fake_sleep
from tests.conftest import FakeClock
from tests.core.test_console_flows import onboard_student, option_number
from tests.reports.dataset import seed_dataset


def _output(app: App, clock: FakeClock, tmp_path: Path) -> ConsoleOutput:
    app.settings.console_outbox = tmp_path / "outbox"
    return app.console_output(sleep=fake_sleep(clock))


async def _send_lesson(teacher: ConsoleSession) -> str:
    screen = await teacher.send("/menu")
    screen = await teacher.send(option_number(screen, "Gửi bài cho lớp"))
    screen = await teacher.send(option_number(screen, "An toàn giao thông"))
    screen = await teacher.send(option_number(screen, "(lower_secondary)"))
    screen = await teacher.send(option_number(screen, "7A"))
    screen = await teacher.send(option_number(screen, "Tiếp tục"))
    screen = await teacher.send(option_number(screen, "1 tuần"))
    return await teacher.send(option_number(screen, "Gửi ngay"))


async def test_a_console_broadcast_is_delivered_and_shown_to_its_students(
    app: App, clock: FakeClock, tmp_path: Path
) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    output = _output(app, clock, tmp_path)
    an = ConsoleSession(app.dispatcher, user="hs", output=output)
    await onboard_student(app, an, demo.class_code, "Nguyễn Văn An")
    binh = ConsoleSession(app.dispatcher, user="hs2", output=output)
    await onboard_student(app, binh, demo.class_code, "Trần Thị Bình")

    teacher = ConsoleSession(app.dispatcher, user="gv", output=output)
    assert "tới 2 học sinh" in await _send_lesson(teacher)
    assert teacher.waiting() == ""  # the lesson went to the students only

    screen = await teacher.send(option_number(await teacher.send("/menu"), "Tiến độ bài đã gửi"))
    screen = await teacher.send("1")
    assert "2 em – đã nhận 2, đã mở 0, hoàn thành 0" in screen and "đang chờ gửi" not in screen

    # An's message was waiting for him, shown once; its options are the ones he types back.
    screen = an.waiting()
    assert "📚 Thầy cô giao bài mới" in screen and "Hạn hoàn thành: 05/12/2026." in screen
    assert an.waiting() == ""
    screen = await an.send(option_number(screen, "📖 Đọc bài"))
    assert "(1/4)" in screen
    assert "📚 Thầy cô giao bài mới" in binh.waiting()

    screen = await teacher.send(option_number(await teacher.send("/menu"), "Tiến độ bài đã gửi"))
    assert "2 em – đã nhận 2, đã mở 1, hoàn thành 0" in await teacher.send("1")


async def test_the_terminal_shows_a_message_when_one_switches_to_its_user(
    app: App, clock: FakeClock, tmp_path: Path
) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    output = _output(app, clock, tmp_path)
    await onboard_student(app, ConsoleSession(app.dispatcher, user="hs2", output=output), demo.class_code)
    await _send_lesson(ConsoleSession(app.dispatcher, user="gv", output=output))
    # The sender ran after the teacher's last line: the message is in the console, waiting for "hs2".
    lines = iter(["/as gv", "/as hs2", "/quit"])
    out = io.StringIO()
    await run_console(app.dispatcher, "banner", stdout=out, readline=lambda: next(lines) + "\n", output=output)
    shown = out.getvalue()
    switched = shown.index("(Bây giờ em là: hs2)")
    assert "📚 Thầy cô giao bài mới" in shown[switched:] and "📚 Thầy cô giao bài mới" not in shown[:switched]
    assert shown.count("📚 Thầy cô giao bài mới") == 1


async def test_files_the_bot_sends_are_written_to_the_outbox(app: App, clock: FakeClock, tmp_path: Path) -> None:
    await seed_dataset(app.uow_factory, app.clock(), rows=20)
    output = _output(app, clock, tmp_path)
    btc = ConsoleSession(app.dispatcher, user="btc", output=output)
    screen = await btc.send("/report 2026")
    assert "bytes)" not in screen
    outbox = tmp_path / "outbox"
    for name, content in btc.attachments:
        assert f"📎 {name} – đã lưu vào {outbox / name}" in screen
        assert (outbox / name).read_bytes() == content
    assert sorted(p.name for p in outbox.iterdir()) == sorted(name for name, _ in btc.attachments)
    assert len(btc.attachments) == 2


def test_the_outbox_keeps_every_file_inside_its_folder(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    first = outbox.save("ket-qua.xlsx", b"one")
    assert first == tmp_path / "outbox" / "ket-qua.xlsx"
    assert outbox.save("ket-qua.xlsx", b"one") == first  # the same file again: not a second copy
    second = outbox.save("ket-qua.xlsx", b"two")
    assert second.name == "ket-qua-2.xlsx" and first.read_bytes() == b"one" and second.read_bytes() == b"two"
    sneaky = outbox.save("../../etc/passwd", b"x")
    assert sneaky.parent == tmp_path / "outbox" and sneaky.name == "passwd"


async def test_a_notice_reaches_its_console_user_after_the_next_line(
    app: App, clock: FakeClock, tmp_path: Path
) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    output = _output(app, clock, tmp_path)
    an = ConsoleSession(app.dispatcher, user="hs", output=output)
    await onboard_student(app, an, demo.class_code)
    async with app.uow_factory() as uow:
        user = await uow.users.by_account("console", "hs")
        assert user is not None
        await uow.notices.add(user.id, "🏆 Chúc mừng em đạt giải Ba!", app.clock())
        await uow.commit()
    await ConsoleSession(app.dispatcher, user="gv", output=output).send("/menu")  # anyone's line sends it
    assert "🏆 Chúc mừng em đạt giải Ba!" in an.waiting()
    async with app.uow_factory() as uow:
        assert await uow.notices.pending() == []
