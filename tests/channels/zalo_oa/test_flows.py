"""The product on the Zalo OA, end to end: the real webhook, client and transport against the fake OA."""

from __future__ import annotations

from sqlalchemy import select

from bot.accounts.seed import seed_demo
from bot.app import App
from db import models as m
from tests.channels.zalo.conftest import option
from tests.channels.zalo_oa.conftest import OABot


async def onboard(bot: OABot, user: str, code: str, name: str = "Nguyễn Văn An") -> str:
    screen = await bot.say(user, "/start")
    assert "Tiếng Việt" in [b["title"] for b in bot.last_buttons(user)]
    screen = await bot.tap(user, "Tiếng Việt")
    assert "Em có đồng ý không?" in screen
    screen = await bot.tap(user, "Em đồng ý")
    assert "mã lớp" in screen
    screen = await bot.say(user, code.lower())
    assert "Em đã vào lớp 7A" in screen
    screen = await bot.say(user, name)
    assert f"Cảm ơn {name}" in screen
    return screen


async def test_a_student_onboards_and_takes_a_practice_quiz_by_buttons(app: App, oa_bot: OABot) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    await onboard(oa_bot, "ou1", demo.class_code)

    screen = await oa_bot.say("ou1", "/practice")
    # Five topics and "Hủy": more options than the OA's buttons, so numbered lines typed back.
    assert "👉 Gõ số (1–6) để chọn." in screen
    screen = await oa_bot.say("ou1", option(screen, "ma túy"))
    for i in range(5):
        assert f"Câu {i + 1}/5" in screen
        titles = [b["title"] for b in oa_bot.last_buttons("ou1")]
        assert titles[0].startswith("A. ") and len(titles) == 3  # lettered answers as buttons, no typing hint
        assert "Gõ chữ cái" not in screen
        screen = await oa_bot.tap("ou1", "Đáp án đúng")
    assert "Em đúng 5/5 câu" in screen

    async with app.sessions() as s:
        attempt = (await s.execute(select(m.QuizAttempt).where(m.QuizAttempt.kind == "practice"))).scalar_one()
        assert attempt.score == 5
        account = (await s.execute(select(m.ChannelAccount).where(m.ChannelAccount.channel == "zalo_oa"))).scalar_one()
        assert account.external_id == "ou1" and account.chat_id == "ou1"
    sent = oa_bot.fake.sent
    # Every reply went to the student, fit the OA's limits, and quoted the message it answered (a free reply).
    assert {s["user_id"] for s in sent} == {"ou1"}
    assert all(len(t) <= 2000 for t in oa_bot.fake.texts())
    assert all(s["message"].get("quote_message_id") for s in sent if "text" in s["message"])
    # Button payloads carry the core's opaque tokens, never the answer's words.
    payloads = [b["payload"] for msg in oa_bot.fake.messages() for b in oa_bot.fake.buttons(msg)]
    assert payloads and all(p.startswith("#c:") and "Đáp án" not in p for p in payloads)
