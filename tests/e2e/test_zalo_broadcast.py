"""Issues 5 and 7 on Zalo: a teacher on Zalo sends a lesson by typing; the running bot (both channels, one
sender) delivers it to the class's Zalo and Telegram students; a Zalo student types "1" to open it, another
finds it under "bài được giao" by typing; the teacher's progress view counts what the fake servers saw."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import insert, select, update

from bot.app import App
from db import models as m
from tests.broadcasts.helpers import make_school
from tests.e2e.helpers import RunningBot, TelegramUser, ZaloUser, configure, give_consent, option, until
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZaloServer

TELEGRAM_STUDENTS = 5


async def _add_telegram_students(app: App, class_id: int) -> list[str]:
    now = app.clock()
    async with app.sessions() as s:
        ids = list(
            (
                await s.execute(
                    insert(m.User).returning(m.User.id),
                    [
                        {
                            "display_name": f"Học Sinh Tê {i}",
                            "locale": "vi",
                            "role": "student",
                            "onboarded": True,
                            "created_at": now,
                        }
                        for i in range(TELEGRAM_STUDENTS)
                    ],
                )
            ).scalars()
        )
        chats = [str(50_000 + uid) for uid in ids]
        await s.execute(
            insert(m.ChannelAccount),
            [
                {"user_id": uid, "channel": "telegram", "external_id": chat, "chat_id": chat, "created_at": now}
                for uid, chat in zip(ids, chats, strict=True)
            ],
        )
        await s.execute(
            insert(m.Membership),
            [{"user_id": uid, "class_id": class_id, "role": "student", "joined_at": now} for uid in ids],
        )
        await s.commit()
    return chats


async def test_a_lesson_sent_from_zalo_reaches_zalo_and_telegram_students_and_opens_by_typing(app: App) -> None:
    school = await make_school(app, classes=1, per_class=10, channel="zalo")
    class_id = school.class_ids[0]
    zalo_chats = [school.chats[uid] for uid in school.students[class_id]]
    telegram_chats = await _add_telegram_students(app, class_id)
    async with app.sessions() as s:  # on both platforms a private chat's id is the user's id
        await s.execute(update(m.ChannelAccount).values(external_id=m.ChannelAccount.chat_id))
        await s.commit()
        students = list((await s.execute(select(m.Membership.user_id))).scalars())
    await give_consent(app, students, by=school.teacher.id)
    async with FakeTelegramServer() as tg, FakeZaloServer(token="123:TEST", idle_timeout=0.05) as zalo:
        # Replies to one chat faster than the real 1 a second, so the exchanges are quick; the broadcast itself
        # still goes through the sender's real limits.
        configure(app, tg, zalo, telegram_chat_per_second=50.0, zalo_chat_rate_per_second=50.0)
        bot = await RunningBot(app, ["telegram", "zalo"]).start()
        try:
            teacher = ZaloUser(app, zalo, "gv1")
            screen = await teacher.say("menu")
            screen = await teacher.say(option(screen, "Gửi bài cho lớp"))
            screen = await teacher.say(option(screen, "An toàn giao thông"))
            screen = await teacher.say(option(screen, "(lower_secondary)"))
            screen = await teacher.say(option(screen, "7A1"))
            screen = await teacher.say(option(screen, "Tiếp tục"))
            screen = await teacher.say(option(screen, "1 tuần"))
            assert f"Gửi tới {10 + TELEGRAM_STUDENTS} học sinh." in screen, screen
            screen = await teacher.say(option(screen, "Gửi ngay"))
            assert f"tới {10 + TELEGRAM_STUDENTS} học sinh" in screen

            def got(chat: str) -> list[str]:
                return [t for t in zalo.texts(chat) if "📚 Thầy cô giao bài mới" in t]

            await until(
                lambda: all(got(c) for c in zalo_chats) and all(tg.sent(c) for c in telegram_chats),
                what="every student",
            )
            # A Zalo student at rest types "1": the lesson opens at its first card.
            first = ZaloUser(app, zalo, zalo_chats[0])
            assert "gõ 1" in got(zalo_chats[0])[0]
            screen = await first.say("1")
            assert "(1/4)" in screen and "Thẻ mở đầu của bài an-toan-giao-thong-lower-secondary-1" in screen
            # Another one finds it later under "Bài được giao", typed.
            second = ZaloUser(app, zalo, zalo_chats[1])
            await second.say("trợ giúp")
            screen = await second.say("bài được giao")
            assert "📋 Bài được giao:" in screen and "hạn" in screen, screen
            screen = await second.say(option(screen, "Bài 1 an-toan-giao-thong"))
            assert "(1/4)" in screen, screen
            # A Telegram student of the same class opens it with the button.
            tg_student = TelegramUser(app, tg, int(telegram_chats[0]))
            screen = await tg_student.tap("Đọc bài")
            assert "(1/4)" in screen

            screen = await teacher.say("menu")
            screen = await teacher.say(option(screen, "Tiến độ bài đã gửi"))
            screen = await teacher.say(option(screen, "Bài 1 an-toan-giao-thong"))
        finally:
            await bot.stop()

    assert f"Tổng: {10 + TELEGRAM_STUDENTS} em – đã nhận {10 + TELEGRAM_STUDENTS}, đã mở 3, hoàn thành 0" in screen
    # Once each, in their own chats.
    lessons = [msg for msg in zalo.sent() if "📚 Thầy cô giao bài mới" in msg.get("text", "")]
    assert Counter(msg["chat_id"] for msg in lessons) == Counter(zalo_chats)
    assert Counter(c.chat_id for c in tg.sent() if "📚" in c.text) == Counter(telegram_chats)
    assert all(len(msg["text"]) <= 2000 for msg in zalo.sent())
