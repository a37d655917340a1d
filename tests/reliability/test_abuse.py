"""CHEAT-1/CHEAT-5/CHEAT-6 through the real Telegram channel (polling, fake Bot API): forged, borrowed and
replayed callback data, answers after the deadline, a flood from one account, very long text and chats the bot
does not serve are refused, leave the contest rows as they were, and the logs carry no name or typed text."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.core.flood import FloodGuard, FloodRule
from db import models as m
from tests.channels.telegram.conftest import ChatUser, RunningBot, configure
from tests.conftest import FakeClock
from tests.contests.helpers import contest_def, make_contest
from tests.fakes.telegram_server import FakeTelegramServer
from tests.reliability.crashkit import seed_students

pytestmark = pytest.mark.reliability

A, B = 500_000, 500_001  # the first two seeded students
NAMES = ("Học Sinh 0", "Học Sinh 1")


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as srv:
        yield srv


@pytest.fixture
async def bot(app: App, server: FakeTelegramServer) -> AsyncIterator[RunningBot]:
    configure(app, server)
    running = await RunningBot(app, server).start()
    try:
        yield running
    finally:
        await running.stop()


async def contest_rows(app: App) -> dict[str, object]:
    """What an abuse must not change: answers, attempts, registrations, and each student's position."""
    async with app.sessions() as s:
        answers = (
            await s.execute(select(m.AttemptAnswer.attempt_id, m.AttemptAnswer.seq, m.AttemptAnswer.chosen))
        ).all()
        attempts = (await s.execute(select(m.QuizAttempt.id, m.QuizAttempt.finished_at, m.QuizAttempt.score))).all()
        regs = (await s.execute(select(func.count()).select_from(m.ContestRegistration))).scalar_one()
    return {"answers": sorted(answers), "attempts": sorted(attempts), "registrations": regs}


async def start_attempt(student: ChatUser) -> str:
    assert "Đăng ký dự thi" in await student.send("/thi")
    await student.tap("Đúng, em đăng ký")
    screen = await student.tap("Thi chính thức")
    assert "Câu 1/5" in screen, screen
    return screen


async def test_forged_borrowed_replayed_and_late_taps_change_nothing(
    app: App, server: FakeTelegramServer, bot: RunningBot, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    await seed_students(app, 2)
    await make_contest(app, contest_def(clock()))
    a, b = ChatUser(app, server, A), ChatUser(app, server, B)
    await start_attempt(a)
    await start_attempt(b)
    a_mid, a_token = a.button("Đáp án đúng")
    before = await contest_rows(app)

    # (a) Forged data: random tokens, and data that is no token at all.
    for data in (secrets.token_urlsafe(8), "contest.answer:1", "0" * 64):
        screen = "\n".join(c.text for c in await a.deliver(server.callback_update(A, data, a_mid)))
        assert "Lựa chọn này đã cũ rồi" in screen
    # (b) B taps with the token of A's question (another user's message, another user's attempt).
    b_mid, _ = b.button("Đáp án đúng")
    screen = "\n".join(c.text for c in await b.deliver(server.callback_update(B, a_token, b_mid)))
    assert "Lựa chọn này đã cũ rồi" in screen
    assert await contest_rows(app) == before

    # (c) A's real tap counts once; the same tap replayed (a new update with the used data) changes nothing.
    # (Refusing a tap takes the keyboard off the tapped message, so the real tap is made from the stored data.)
    screen = "\n".join(c.text for c in await a.deliver(server.callback_update(A, a_token, a_mid)))
    assert "Câu 2/5" in screen, screen
    q2_mid, q2_token = a.button("Đáp án đúng")
    after_tap = await contest_rows(app)
    assert len(after_tap["answers"]) == len(before["answers"]) + 1  # type: ignore[arg-type]
    screen = "\n".join(c.text for c in await a.deliver(server.callback_update(A, a_token, a_mid)))
    assert "Lựa chọn này đã cũ rồi" in screen
    assert await contest_rows(app) == after_tap

    # (d) After the deadline (15 minutes, plus the grace): refused, not stored, the attempt closed at its deadline.
    clock.advance(minutes=16)
    screen = "\n".join(c.text for c in await a.deliver(server.callback_update(A, q2_token, q2_mid)))
    assert "Đã hết giờ" in screen, screen
    rows = await contest_rows(app)
    assert rows["answers"] == after_tap["answers"]
    async with app.sessions() as s:
        late = (await s.execute(select(m.SecurityEvent).where(m.SecurityEvent.kind == "late"))).scalars().all()
        attempt = (await s.execute(select(m.QuizAttempt).where(m.QuizAttempt.id == late[0].attempt_id))).scalar_one()
    assert len(late) == 1 and attempt.finished_at == attempt.deadline_at

    # No name and no typed data in the logs of all this.
    assert not any(name in caplog.text for name in NAMES)
    assert a_token not in caplog.text


async def test_a_flood_gets_one_friendly_notice_and_is_not_processed(
    app: App, server: FakeTelegramServer, bot: RunningBot, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    app.dispatcher.flood = FloodGuard(FloodRule(events=5, seconds=2))  # the production default (FLOOD_EVENTS=5)
    await seed_students(app, 1)
    await make_contest(app, contest_def(clock()))
    a = ChatUser(app, server, A)
    await start_attempt(a)  # 3 events
    assert "Câu 2/5" in await a.tap("Đáp án đúng")  # 4
    assert "Câu 3/5" in await a.tap("Đáp án đúng")  # 5: the window (the fake clock stands still) is full
    before = await contest_rows(app)
    mid, token = a.button("Đáp án đúng")

    # Ten more taps and messages in the same instant: one notice, nothing processed, nothing stored.
    shown = []
    for i in range(10):
        update = server.callback_update(A, token, mid) if i % 2 else server.message_update(A, "/thi")
        shown += await a.deliver(update)
    texts = [c.text for c in shown]
    assert texts == ["Bấm chậm lại một chút nhé 🙂 Mình đang xử lý tin nhắn trước."], texts
    assert await contest_rows(app) == before
    # Every dropped tap was answered (the button stops spinning) and kept its keyboard.
    assert [c.params.get("text") for c in server.calls("answerCallbackQuery")[-5:]] == [None] * 5
    assert a.button("Đáp án đúng") == (mid, token)
    assert "flood limit" in caplog.text and "Học Sinh" not in caplog.text

    # Two seconds later the same student is served again, from where they were.
    clock.advance(seconds=2)
    assert "Câu 4/5" in await a.tap("Đáp án đúng")
    assert len((await contest_rows(app))["answers"]) == len(before["answers"]) + 1  # type: ignore[arg-type]


async def test_long_text_unknown_chats_and_channel_posts_are_harmless(
    app: App, server: FakeTelegramServer, bot: RunningBot, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    await seed_students(app, 1)
    await make_contest(app, contest_def(clock()))
    a = ChatUser(app, server, A)
    await start_attempt(a)
    before = await contest_rows(app)
    secret_text = "Nội dung riêng tư " + "x" * 4000

    # Very long text (Telegram's 4096 maximum): a short Vietnamese answer, nothing changes, nothing logged.
    screen = await a.send(secret_text)
    assert "Tin nhắn dài quá rồi" in screen
    # A group the bot was added to but that is linked to no class: it only points to the private chat.
    assert await a.deliver(server.message_update(A, "/thi", chat_id=-100777, chat_type="supergroup")) == []
    assert len(server.sent(-100777)) == 1 and "nhắn riêng" in server.sent(-100777)[0].text
    # Group chatter that is not a command: ignored, no answer.
    assert await a.deliver(server.message_update(A, "Đáp án A", chat_id=-100777, chat_type="group")) == []
    assert len(server.sent(-100777)) == 1
    # Updates the bot never asked for (a channel post, an edited message): stored, dropped, no answer.
    for kind in ("channel_post", "edited_message"):
        msg = server.message_update(A, "/thi", chat_id=-100888, chat_type="channel")["message"]
        assert await a.deliver({kind: msg}) == []
    # A callback with data longer than Telegram allows, and one without a message.
    mid, _ = a.button("Đáp án đúng")
    assert "đã cũ" in "\n".join(c.text for c in await a.deliver(server.callback_update(A, "x" * 300, mid)))

    assert await contest_rows(app) == before
    assert "Nội dung riêng tư" not in caplog.text and "Học Sinh" not in caplog.text
    async with app.sessions() as s:
        left = (await s.execute(select(m.InboundUpdate.status).where(m.InboundUpdate.status != "done"))).all()
    assert left == []
