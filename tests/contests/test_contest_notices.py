"""Prize notices reach the winner through a channel transport, once; the start-up reconciler closes overdue attempts."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from bot.app import App
from bot.contests.jobs import reconcile
from bot.core.delivery import DeliveryResult, DeliveryStatus
from bot.core.events import ChannelAddress
from bot.core.replies import Reply
from bot.runtime.notices import deliver_notices
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import Chat, contest_def, make_contest, make_roster


class RecordingTransport:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.sent: list[tuple[ChannelAddress, str]] = []

    async def deliver(self, address: ChannelAddress, replies: list[Reply]) -> DeliveryResult:
        self.sent += [(address, r.text) for r in replies]
        return DeliveryResult(DeliveryStatus.SENT)


async def test_winner_gets_one_message_and_overdue_attempts_close_at_start(app: App, clock: FakeClock) -> None:
    roster = await make_roster(app, 1, 1, 2, random.Random(9))
    await make_contest(app, contest_def(clock()))
    (ch1, ext1, uid1, name1), (ch2, ext2, _uid2, _name2) = roster.students
    winner, quitter = Chat(app, ch1, ext1), Chat(app, ch2, ext2)
    for chat in (winner, quitter):
        await chat.start_official()
    for _ in range(5):
        clock.advance(seconds=3)
        await winner.tap("Đáp án đúng")
    await winner.say("1")
    await quitter.tap("Đáp án đúng")
    clock.advance(minutes=20)
    assert await reconcile(app.uow_factory, app.clock) == 1  # the quitter's attempt, at its deadline
    org = Chat(app, "console", "btc")
    await org.say("/thi")
    await org.tap("Hội thi thử nghiệm")
    await org.tap("Đợt 1")
    await org.tap("Đóng đợt thi")
    await org.tap("✅ Đóng đợt thi")  # closing asks first
    await org.tap("Công bố kết quả")
    await org.tap("Xác nhận công bố")
    assert "2 học sinh đạt giải" in org.text
    transports = {"telegram": RecordingTransport("telegram"), "zalo": RecordingTransport("zalo")}
    assert await deliver_notices(app.uow_factory, app.clock, transports) == 2
    assert await deliver_notices(app.uow_factory, app.clock, transports) == 0  # never twice
    sent = transports[ch1].sent
    assert any(addr.user_id == ext1 and name1 in text and "Giải Nhất" in text for addr, text in sent)
    async with app.sessions() as s:
        rows = (await s.execute(select(m.Notice))).scalars().all()
        assert all(n.sent_at is not None for n in rows) and len(rows) == 2
        att = (await s.execute(select(m.QuizAttempt).where(m.QuizAttempt.user_id != uid1))).scalar_one()
        assert att.finished_at == att.deadline_at and att.score == 1
    assert clock() - att.deadline_at > dt.timedelta(minutes=1)
