"""Teachers and students in chat: a broadcast from the teacher's menu, the student's button and "Bài được
giao", the progress view and the once-a-day reminder; and a teacher refused another teacher's class."""

from __future__ import annotations

from sqlalchemy import select

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.core.events import IncomingEvent
from db import models as m
from tests.broadcasts.fakes import FakeTransport, fake_sleep
from tests.core.test_console_flows import onboard_student, option_number


async def _send_all(app: App, clock) -> FakeTransport:  # type: ignore[no-untyped-def]
    fake = FakeTransport("console", clock)
    await app.broadcast_sender({"console": fake}, clock, fake_sleep(clock)).run_until_empty()
    return fake


async def test_teacher_sends_a_lesson_student_reads_it_teacher_sees_progress_and_reminds(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    demo = await seed_demo(app.uow_factory, app.clock)
    an = ConsoleSession(app.dispatcher, user="hs")
    await onboard_student(app, an, demo.class_code, "Nguyễn Văn An")
    binh = ConsoleSession(app.dispatcher, user="hs2")
    await onboard_student(app, binh, demo.class_code, "Trần Thị Bình")
    await binh.send("/lessons")  # Bình is busy reading when the lesson arrives

    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send("/menu")
    screen = await teacher.send(option_number(screen, "Gửi bài cho lớp"))
    screen = await teacher.send(option_number(screen, "An toàn giao thông"))
    screen = await teacher.send(option_number(screen, "(lower_secondary)"))
    assert "Gửi cho lớp nào?" in screen
    screen = await teacher.send(option_number(screen, "7A"))
    assert "☑️ 7A" in screen
    screen = await teacher.send(option_number(screen, "Tiếp tục"))
    screen = await teacher.send(option_number(screen, "1 tuần"))
    assert "Gửi tới 2 học sinh." in screen and "Hạn hoàn thành: 05/12/2026." in screen
    screen = await teacher.send(option_number(screen, "Gửi ngay"))
    assert "tới 2 học sinh" in screen

    fake = await _send_all(app, clock)
    by_chat = {addr.chat_id: reply for addr, reply in fake.replies}
    assert set(by_chat) == {"hs", "hs2"}
    assert "📚 Thầy cô giao bài mới" in by_chat["hs"].text and "Hạn hoàn thành: 05/12/2026." in by_chat["hs"].text
    assert by_chat["hs"].choice_labels == ["📖 Đọc bài", "📋 Bài được giao"]
    assert "bài được giao" in by_chat["hs2"].text and by_chat["hs2"].prompt is None  # busy, and no buttons here

    # An, at rest, types "1"; Bình taps the (pinned) button after doing something else first.
    screen = await an.send("1")
    assert "(1/4)" in screen
    await binh.send("/menu")
    bc_token = next(t for t, action, _l in (await _conv(app, "hs2"))["pinned"] if action.startswith("assigned.open"))
    replies = await app.dispatcher.handle(IncomingEvent.choice(binh.address(), bc_token))
    assert replies and "(1/4)" in replies[0].text

    # An finishes the lesson's check questions.
    for _card in range(3):
        screen = await an.send(option_number(screen, "Tiếp theo"))
    screen = await an.send(option_number(screen, "Làm câu hỏi kiểm tra"))
    for _q in range(2):
        screen = await an.send(option_number(screen, "Đáp án đúng"))
    assert "Em đã hoàn thành bài" in screen
    screen = await an.send("bài được giao")
    assert "📋 Bài được giao:" in screen and "✅" in screen and "hạn 05/12/2026" in screen

    screen = await teacher.send("/menu")
    screen = await teacher.send(option_number(screen, "Tiến độ bài đã gửi"))
    screen = await teacher.send("1")
    assert "2 em – đã nhận 2, đã mở 2, hoàn thành 1" in screen
    assert "Chưa hoàn thành (1):" in screen and "• Trần Thị Bình" in screen and "Nguyễn Văn An" not in screen
    screen = await teacher.send(option_number(screen, "Nhắc các em chưa hoàn thành"))
    assert "tới 1 em" in screen
    fake = await _send_all(app, clock)
    assert [a.chat_id for a, _r in fake.replies] == ["hs2"] and "🔔 Nhắc bài" in fake.replies[0][1].text
    screen = await teacher.send(option_number(screen, "Xem tiến độ"))
    screen = await teacher.send(option_number(screen, "Nhắc các em chưa hoàn thành"))
    assert "Hôm nay thầy/cô đã nhắc bài này rồi" in screen
    clock.advance(days=1)
    screen = await teacher.send("/menu")
    screen = await teacher.send(option_number(screen, "Tiến độ bài đã gửi"))
    screen = await teacher.send("1")
    screen = await teacher.send(option_number(screen, "Nhắc các em chưa hoàn thành"))
    assert "tới 1 em" in screen


async def _conv(app: App, external_id: str) -> dict:  # type: ignore[type-arg]
    async with app.sessions() as s:
        row = (
            await s.execute(
                select(m.Conversation)
                .join(m.ChannelAccount, m.ChannelAccount.user_id == m.Conversation.user_id)
                .where(m.ChannelAccount.external_id == external_id)
            )
        ).scalar_one()
        return dict(row.prompt)


async def test_teacher_manages_a_class_in_chat_roster_matches_rename_new_code_archive(app: App) -> None:
    from bot.broadcasts import roster

    demo = await seed_demo(app.uow_factory, app.clock)
    for user, name in (("hs", "Phạm Thu Hà"), ("hs2", "Nguyễn Văn An")):
        await onboard_student(app, ConsoleSession(app.dispatcher, user=user), demo.class_code, name)
    async with app.uow_factory() as uow:
        klass = await uow.classes.by_code(demo.class_code)
        assert klass is not None
        result = await roster.import_roster(
            uow,
            None,
            klass.id,
            [(2, "Phạm Thu Hà", "A1"), (3, "Phạm Thu Hà", "A2"), (4, "Nguyễn Văn An", None)],
            app.clock(),
        )
        assert result.errors == []
        await uow.commit()

    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send("/classes")
    screen = await teacher.send(option_number(screen, "🏫 7A"))
    assert (
        f"Mã lớp: {demo.class_code}" in screen
        and "2 học sinh đã vào lớp; danh sách lớp có 3 em (1 em đã ghép)" in screen
    )
    screen = await teacher.send(option_number(screen, "Xác nhận học sinh (1)"))
    assert "Học sinh “Phạm Thu Hà” đã vào lớp 7A" in screen
    screen = await teacher.send(option_number(screen, "Phạm Thu Hà (A2)"))
    assert "Đã ghép học sinh" in screen and "Không còn học sinh nào cần xác nhận." in screen
    screen = await teacher.send(option_number(screen, "Danh sách lớp"))
    assert "• Phạm Thu Hà (A1) – chưa vào lớp" in screen and "• Phạm Thu Hà (A2) – ✅ đã vào lớp" in screen

    screen = await teacher.send(option_number(screen, "Về lớp"))
    screen = await teacher.send(option_number(screen, "Đổi tên lớp"))
    screen = await teacher.send("   ")
    screen = await teacher.send("7A chuyên toán tin học mới")  # too long
    assert "Tên lớp từ 1 đến 20 ký tự" in screen
    screen = await teacher.send("7A1")
    assert "Đã đổi tên lớp thành 7A1." in screen
    screen = await teacher.send(option_number(screen, "Đổi mã lớp"))
    new_code = screen.split("Mã lớp mới: ")[1].split(".")[0]
    assert new_code != demo.class_code and f"Mã lớp: {new_code}" in screen
    late = ConsoleSession(app.dispatcher, user="hs3")
    screen = await late.send(f"/start {demo.class_code}")
    screen = await late.send(option_number(screen, "Tiếng Việt"))
    screen = await late.send(option_number(screen, "Em đồng ý"))
    assert "Mã lớp trong đường link không đúng" in screen  # the old code stopped working

    screen = await teacher.send("/classes")
    screen = await teacher.send(option_number(screen, "🏫 7A1"))
    screen = await teacher.send(option_number(screen, "Lưu trữ lớp"))
    screen = await teacher.send(option_number(screen, "🗄️ Lưu trữ"))
    assert "Đã lưu trữ lớp 7A1." in screen
    screen = await teacher.send("/classes")
    assert "7A1" not in screen and "Chưa có lớp nào" in screen
