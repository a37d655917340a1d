"""Issues 5 and 6 end to end: one contest taken through the running bot on both platforms, a Telegram student
tapping buttons and a Zalo student typing letters (registration, 20 answers, the prediction typed, the result
with score and duration); the organizer closes and publishes from Telegram; each winner's congratulation
arrives in their own private chat on their own platform, sent by the running bot's notice job."""

from __future__ import annotations

import re

from bot.app import App
from tests.contests.helpers import contest_def, make_contest
from tests.e2e.helpers import RunningBot, TelegramUser, ZaloUser, configure, give_consent, option, until
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZaloServer

ORGANIZER, TG_STUDENT, ZALO_STUDENT = 7001, 7101, "zalo-7102"
QUESTIONS = 20


async def _people(app: App) -> None:
    now = app.clock()
    async with app.uow_factory() as uow:
        org = await uow.users.create("telegram", str(ORGANIZER), str(ORGANIZER), "vi", now, role="organizer")
        await uow.users.update(org.id, display_name="Ban Tổ Chức", onboarded=True)
        school = await uow.schools.create("Trường THCS Đông Hòa", now)
        klass = await uow.classes.create(school.id, None, "7A", 7, "2026-2027", "HOITHI7A", now)
        ids = []
        for channel, ext, name in (
            ("telegram", str(TG_STUDENT), "Nguyễn Thị Ánh"),
            ("zalo", ZALO_STUDENT, "Trần Đức Hưng"),
        ):
            user = await uow.users.create(channel, ext, ext, "vi", now)
            await uow.users.update(user.id, display_name=name, onboarded=True)
            await uow.classes.add_member(user.id, klass.id, now)
            ids.append(user.id)
        await uow.commit()
    await give_consent(app, ids, by=org.id)


async def test_one_contest_on_telegram_and_zalo_with_notices_to_each_winner(app: App) -> None:
    await _people(app)
    d = contest_def(
        app.clock(),
        questions=QUESTIONS,
        time_limit_minutes=30,
        prizes={"nhat": 1, "nhi": 1, "ba": 0, "khuyen_khich": 0, "min_score": 1},
    )
    await make_contest(app, d)
    async with FakeTelegramServer() as tg, FakeZaloServer(token="123:TEST", idle_timeout=0.05) as zalo:
        # The pace of replies (1 a second per chat on both platforms, 5 a second overall on Zalo) would make 45
        # exchanges last a minute; it is not what this test is about (the broadcast tests keep the real limits).
        configure(
            app, tg, zalo, telegram_chat_per_second=50.0, zalo_chat_rate_per_second=50.0, zalo_rate_per_second=50.0
        )
        bot = await RunningBot(app, ["telegram", "zalo"], notice_seconds=0.2).start()
        try:
            # Telegram: every answer tapped, all right.
            anh = TelegramUser(app, tg, TG_STUDENT)
            screen = await anh.send("/thi")
            assert "Họ và tên: Nguyễn Thị Ánh" in screen, screen
            await anh.tap("Đúng, em đăng ký")
            screen = await anh.tap("Thi chính thức")
            for n in range(1, QUESTIONS + 1):
                assert f"Câu {n}/{QUESTIONS}" in screen, screen
                screen = await anh.tap("Đáp án đúng")
            assert "🔮" in screen
            screen = await anh.send("12")
            assert "Em đã nộp bài" in screen and f"{QUESTIONS}/{QUESTIONS} câu đúng" in screen, screen
            assert "Thời gian làm bài" in screen

            # Zalo: every answer typed as a letter, one wrong on purpose; a letter in lower case too.
            hung = ZaloUser(app, zalo, ZALO_STUDENT)
            screen = await hung.say("thi")
            assert "Họ và tên: Trần Đức Hưng" in screen, screen
            screen = await hung.say(option(screen, "Đúng, em đăng ký"))
            screen = await hung.say(option(screen, "Thi chính thức"))
            for n in range(1, QUESTIONS + 1):
                assert f"Câu {n}/{QUESTIONS}" in screen, screen
                right = option(screen, "Đáp án đúng")
                letters = re.findall(r"^([A-J])\. ", screen, flags=re.M)
                letter = next(x for x in letters if x != right) if n == 7 else right
                screen = await hung.say(letter.lower() if n % 5 == 0 else letter)
            assert "🔮" in screen, screen
            screen = await hung.say("khoảng hai mươi")
            assert "số nguyên" in screen
            screen = await hung.say("15")
            assert "Em đã nộp bài" in screen and f"{QUESTIONS - 1}/{QUESTIONS} câu đúng" in screen, screen
            assert "Thời gian làm bài" in screen

            # The organizer closes the round and publishes, tapping in Telegram.
            org = TelegramUser(app, tg, ORGANIZER)
            await org.send("/thi")
            await org.tap("Hội thi thử nghiệm")
            await org.tap("Đợt 1")
            await org.tap("Đóng đợt thi")
            await org.tap("✅ Đóng đợt thi")  # closing asks first
            await org.tap("Công bố kết quả")
            screen = await org.tap("Xác nhận công bố")
            assert "2 học sinh đạt giải" in screen, screen

            def congratulated_on_telegram() -> list[str]:
                return [c.text for c in tg.sent(TG_STUDENT) if "🏆 Chúc mừng" in c.text]

            def congratulated_on_zalo() -> list[str]:
                return [t for t in zalo.texts(ZALO_STUDENT) if "🏆 Chúc mừng" in t]

            await until(lambda: congratulated_on_telegram() and congratulated_on_zalo(), what="the notices")
        finally:
            await bot.stop()
    (tg_notice,) = congratulated_on_telegram()
    (zalo_notice,) = congratulated_on_zalo()
    assert "Nguyễn Thị Ánh" in tg_notice and "Giải Nhất" in tg_notice and f"{QUESTIONS}/{QUESTIONS}" in tg_notice
    assert "Trần Đức Hưng" in zalo_notice and "Giải Nhì" in zalo_notice
    # Nobody got the other one's notice, and nothing went to the wrong platform.
    assert not [c for c in tg.sent() if "🏆 Chúc mừng" in c.text and c.chat_id != str(TG_STUDENT)]
    assert not [t for t in zalo.sent() if "🏆 Chúc mừng" in t.get("text", "") and t["chat_id"] != ZALO_STUDENT]
