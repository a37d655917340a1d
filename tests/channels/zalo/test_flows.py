"""The product on Zalo, end to end: the real client and channel against the fake Zalo server."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.accounts.seed import seed_demo
from bot.app import App
from db import models as m
from tests.channels.zalo.conftest import ZaloBot, option


async def onboard(bot: ZaloBot, chat: str, code: str, name: str = "Nguyễn Văn An") -> str:
    screen = await bot.say(chat, "/start")
    assert "Tiếng Việt" in screen and "👉 Gõ số (1–2) để chọn." in screen
    screen = await bot.say(chat, option(screen, "Tiếng Việt"))
    assert "Em có đồng ý không?" in screen
    screen = await bot.say(chat, option(screen, "Em đồng ý"))
    assert "mã lớp" in screen
    screen = await bot.say(chat, code.lower())
    assert "Em đã vào lớp 7A" in screen
    screen = await bot.say(chat, name)
    assert f"Cảm ơn {name}" in screen
    return screen


async def test_onboarding_join_a_lesson_and_a_practice_quiz_by_typing_letters(app: App, bot: ZaloBot) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    screen = await onboard(bot, "zu1", demo.class_code)

    screen = await bot.say("zu1", "bài học")  # a Vietnamese command word
    screen = await bot.say("zu1", option(screen, "An toàn giao thông"))
    screen = await bot.say("zu1", "1")
    assert "(1/4)" in screen
    for card in (2, 3, 4):
        screen = await bot.say("zu1", option(screen, "Tiếp theo"))
        assert f"({card}/4)" in screen

    screen = await bot.say("zu1", "/practice")
    screen = await bot.say("zu1", option(screen, "ma túy"))
    # The ways students type a letter: "a", "A.", "a)", "A", "đáp án a".
    styles = ["{l}", "{L}.", "{l})", "{L}", "đáp án {l}"]
    for i, style in enumerate(styles):
        assert f"Câu {i + 1}/5" in screen and "👉 Gõ chữ cái (A–C) để chọn." in screen
        letter = option(screen, "Đáp án đúng")
        screen = await bot.say("zu1", style.format(l=letter.lower(), L=letter))
    assert "Em đúng 5/5 câu" in screen
    async with app.sessions() as s:
        attempt = (await s.execute(select(m.QuizAttempt).where(m.QuizAttempt.kind == "practice"))).scalar_one()
        assert attempt.score == 5
        account = (await s.execute(select(m.ChannelAccount).where(m.ChannelAccount.channel == "zalo"))).scalar_one()
        assert account.external_id == "zu1" and account.chat_id == "zu1"
    # Every message fits Zalo's limit and the bot's echoes were not answered.
    assert all(len(t) <= 2000 for t in bot.fake.texts())
    assert all(chat == "zu1" for chat in (msg["chat_id"] for msg in bot.fake.sent()))


async def test_a_wrong_answer_format_gets_a_friendly_reprompt_and_changes_nothing(app: App, bot: ZaloBot) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    await onboard(bot, "zu2", demo.class_code)
    screen = await bot.say("zu2", "/practice")
    screen = await bot.say("zu2", option(screen, "ma túy"))
    for bad in ("E", "9", "không biết", "🙂"):
        screen = await bot.say("zu2", bad)
        assert "Câu 1/5" in screen, screen
        assert "Em chọn một chữ cái từ A đến C" in screen or "chưa hiểu" in screen
    async with app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(m.AttemptAnswer))).scalar_one() == 0


async def test_help_and_command_words(app: App, bot: ZaloBot) -> None:
    await seed_demo(app.uow_factory, app.clock)
    assert "111" in await bot.say("zu3", "/help")
    assert "113" in await bot.say("zu3", "trợ giúp")
    assert "Tiếng Việt" in await bot.say("zu3", "Bắt đầu")
