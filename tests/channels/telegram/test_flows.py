"""Every flow on Telegram: the real channel (polling) against the fake Bot API, as students and a teacher."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.accounts.seed import seed_demo
from bot.app import App
from db import models as m
from tests.channels.telegram.conftest import ChatUser, RunningBot
from tests.fakes.telegram_server import FakeTelegramServer


async def onboard(student: ChatUser, start: str = "/start") -> str:
    screen = await student.send(start)
    assert "Em chọn ngôn ngữ nhé" in screen
    screen = await student.tap("Tiếng Việt")
    assert "Em có đồng ý không?" in screen
    return await student.tap("Em đồng ý")


async def test_onboarding_and_joining_a_class_by_deep_link(
    app: App, server: FakeTelegramServer, telegram_bot: RunningBot
) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ChatUser(app, server, 1001)
    screen = await onboard(student, f"/start {demo.class_code}")
    assert "Em đã vào lớp 7A" in screen and "họ và tên" in screen
    screen = await student.send("Nguyễn Văn An")
    assert "Cảm ơn Nguyễn Văn An" in screen and "Em muốn làm gì tiếp theo?" in screen

    # Every tap was answered, and every button carries an opaque token that fits Telegram's 64 bytes.
    assert len(server.calls("answerCallbackQuery")) == 2
    for call in server.calls("sendMessage") + server.calls("editMessageText"):
        for button in call.buttons:
            assert "url" in button or 1 <= len(button["callback_data"].encode()) <= 64
            assert "onboarding" not in button.get("callback_data", "")  # actions stay on the server
    # The menu's buttons are labels; spent keyboards were taken away.
    assert any(b["text"] == "📚 Học bài" for b in server.sent(1001)[-1].buttons)
    assert server.calls("editMessageReplyMarkup")
    async with app.sessions() as s:
        user = (await s.execute(select(m.User).where(m.User.display_name == "Nguyễn Văn An"))).scalar_one()
        assert user.onboarded and (await s.execute(select(m.Membership))).scalar_one().user_id == user.id


async def test_a_lesson_to_the_end_and_a_practice_quiz_by_tapping(
    app: App, server: FakeTelegramServer, telegram_bot: RunningBot
) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ChatUser(app, server, 1002)
    await onboard(student, f"/start {demo.class_code}")
    await student.send("Trần Thị Bình")

    screen = await student.tap("Học bài")
    screen = await student.tap("An toàn giao thông")
    assert "Em chọn một bài nhé" in screen
    labels = [b["text"] for row in student.keyboard_message()[1]["reply_markup"]["inline_keyboard"] for b in row]
    assert any("(lower_secondary)" in label for label in labels)  # lesson titles are the buttons
    screen = await student.tap("(lower_secondary)")
    assert "(1/4)" in screen
    edits_before = len(server.calls("editMessageText"))
    for card in (2, 3, 4):
        screen = await student.tap("Tiếp theo")
        assert f"({card}/4)" in screen
    assert len(server.calls("editMessageText")) == edits_before + 3  # cards turn in place
    screen = await student.tap("Làm câu hỏi kiểm tra")
    for _ in range(2):
        assert "Câu " in screen and "\nA. " in screen  # lettered answers are lines of the text ...
        assert {b["text"] for b in student.keyboard_message()[1]["reply_markup"]["inline_keyboard"][0]} <= set(
            "ABCDE"
        )  # ... and the buttons are just the letters
        screen = await student.tap("Đáp án đúng")
    assert "Em đã hoàn thành bài" in screen and "Em đúng 2/2 câu" in screen

    screen = await student.send("/practice")
    screen = await student.tap("ma túy")
    for i in range(5):
        assert f"Câu {i + 1}/5" in screen
        screen = await student.tap("sai một" if i < 2 else "Đáp án đúng")
    assert "Em đúng 3/5 câu" in screen and screen.count("👉 Đáp án đúng") == 2
    toasts = [c.params.get("text") for c in server.calls("answerCallbackQuery")]
    assert "✅ Đúng rồi!" in toasts and "❌ Chưa đúng." in toasts  # the core's toast is the tap's answer
    async with app.sessions() as s:
        attempt = (await s.execute(select(m.QuizAttempt).where(m.QuizAttempt.kind == "practice"))).scalar_one()
        assert attempt.score == 3


async def test_help_lists_the_hotlines(app: App, server: FakeTelegramServer, telegram_bot: RunningBot) -> None:
    screen = await ChatUser(app, server, 1003).send("/help")
    for number in ("111", "112", "113", "114", "115"):
        assert f"• {number} –" in screen


async def test_a_teacher_creates_a_class_and_gets_a_deep_link(
    app: App, server: FakeTelegramServer, telegram_bot: RunningBot
) -> None:
    await seed_demo(app.uow_factory, app.clock)
    async with app.uow_factory() as uow:
        school = (await uow.schools.list())[0]
        teacher = await uow.users.create("telegram", "2001", "2001", "vi", app.clock(), role="teacher")
        await uow.users.update(teacher.id, school_id=school.id, onboarded=True, display_name="Cô Lan")
        await uow.commit()
    user = ChatUser(app, server, 2001)
    screen = await user.send("/newclass")
    assert "gõ tên lớp" in screen
    screen = await user.send("6B")
    assert "thuộc khối mấy" in screen
    assert len(server.sent(2001)[-1].params["reply_markup"]["inline_keyboard"][0]) == 3  # three grades a row
    screen = await user.tap("6")
    assert "Đã tạo lớp 6B (khối 6)" in screen
    async with app.sessions() as s:
        code = (await s.execute(select(m.SchoolClass.join_code).where(m.SchoolClass.name == "6B"))).scalar_one()
    # The bot's username came from getMe, so the class's deep link works.
    assert f"https://t.me/antt_test_bot?start={code}" in screen


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(
    app: App, server: FakeTelegramServer, telegram_bot: RunningBot
) -> None:
    student = ChatUser(app, server, 1004)
    sticker = server.message_update(1004, "")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {
        "file_id": "x",
        "file_unique_id": "y",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
    calls = await student.deliver(sticker)
    assert "Em chưa gõ gì cả" in calls[0].text
    assert "Mình chưa biết lệnh /xyz" in await student.send("/xyz")
    assert "dài quá" in await student.send("a" * 5000)

    # A forged or stale button: a friendly answer and a toast, nothing else.
    mid = server.sent(1004)[-1].result["message_id"]
    calls = await student.deliver(server.callback_update(1004, "forged-token", mid))
    assert "Lựa chọn này đã cũ rồi" in calls[0].text
    assert server.calls("answerCallbackQuery")[-1].params["text"] == "Lựa chọn này đã cũ rồi."

    # A malformed update is stored, dropped and does not stop the bot.
    broken = server.enqueue_update({"message": {"nonsense": True}})
    from tests.channels.telegram.conftest import wait_handled

    await wait_handled(app, broken["update_id"])
    assert "111" in await student.send("/help")
    async with app.sessions() as s:
        statuses = (await s.execute(select(m.InboundUpdate.status))).scalars().all()
        assert set(statuses) == {"done"}
        assert json.dumps([]) not in statuses


async def test_the_same_update_twice_gets_one_reply(
    app: App, server: FakeTelegramServer, telegram_bot: RunningBot
) -> None:
    update = server.message_update(1005, "/help", update_id=777)
    server.enqueue_update(update)
    server.enqueue_update(json.loads(json.dumps(update)))  # redelivered in the same batch
    user = ChatUser(app, server, 1005)
    assert "111" in await user.send("/menu")  # after this, both copies have been through the inbox
    assert sum("111" in c.text for c in server.sent(1005)) == 1
