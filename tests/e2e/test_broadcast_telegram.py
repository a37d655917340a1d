"""Issue 7 end to end: a teacher broadcasts a lesson to 3 classes of 200 students from the Telegram chat; the
running bot (channels, sender, jobs, as `python -m bot run`) delivers it through the fake Telegram server,
which answers 429 and 403 now and then; the bot is stopped half-way and started again. Every reachable
student gets the lesson exactly once, the blocked ones show as unreachable in the teacher's progress view,
and the times the fake server saw never break Telegram's limits (the real default limits, not test ones)."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

from sqlalchemy import select, update

from bot.app import App
from db import models as m
from tests.broadcasts.helpers import delivery_rows, make_school
from tests.e2e.helpers import RunningBot, TelegramUser, configure, until
from tests.fakes.telegram_server import Call, FakeTelegramServer

TEACHER = 9001
GROUP = "-100777"
BLOCKED_EVERY = 50  # one student in 50 has blocked the bot: 12 of 600


def busiest(times: list[float], seconds: float) -> int:
    """The largest number of calls seen in any window of `seconds`."""
    times = sorted(times)
    worst, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - seconds:
            j += 1
        worst = max(worst, i - j + 1)
    return worst


async def test_lesson_broadcast_to_600_students_through_telegram_with_failures_and_a_restart(
    app: App,
) -> None:
    school = await make_school(app, classes=3, per_class=200, channel="telegram")
    students = [uid for cid in school.class_ids for uid in school.students[cid]]
    chats = {school.chats[uid] for uid in students}
    blocked = {school.chats[uid] for uid in students[::BLOCKED_EVERY]}
    async with app.sessions() as s:  # the teacher writes from a real Telegram chat, and class 7A1 has a group
        await s.execute(
            update(m.ChannelAccount)
            .where(m.ChannelAccount.user_id == school.teacher.id)
            .values(external_id=str(TEACHER), chat_id=str(TEACHER))
        )
        s.add(
            m.ClassGroup(
                class_id=school.class_ids[0],
                channel="telegram",
                chat_id=GROUP,
                linked_by=school.teacher.id,
                linked_at=app.clock(),
            )
        )
        await s.commit()

    async with FakeTelegramServer() as server:
        configure(app, server, None)
        for chat in blocked:
            server.fail_next("sendMessage", 403, chat_id=chat, times=None)
        bot = await RunningBot(app, ["telegram"]).start()
        try:
            teacher = TelegramUser(app, server, TEACHER)
            await teacher.send("/menu")
            await teacher.tap("Gửi bài cho lớp")
            await teacher.tap("An toàn giao thông")
            screen = await teacher.tap("(lower_secondary)")
            assert "Gửi cho lớp nào?" in screen
            for name in ("7A1", "7A2", "7A3"):
                await teacher.tap(name)
            await teacher.tap("Tiếp tục")
            screen = await teacher.tap("1 tuần")
            assert "Gửi tới 600 học sinh." in screen, screen
            # 429s now and then, counted over every sendMessage of the run (the teacher's replies too).
            for nth in (40, 170, 420, 560):
                server.fail_next("sendMessage", 429, nth=nth, retry_after=1)
            screen = await teacher.tap("Gửi ngay")
            assert "tới 600 học sinh" in screen

            def reached() -> int:
                return len({c.chat_id for c in server.calls("sendMessage") if c.chat_id in chats})

            await until(lambda: reached() >= 300, what="half of the students")
            await bot.stop()  # what SIGTERM does, half-way
            half = reached()
            assert 300 <= half < 600
            bid = (await _broadcast_ids(app))[0]
            rows = await delivery_rows(app, bid)
            assert {r.status for r in rows} >= {"pending"}  # really interrupted
            assert not [r for r in rows if r.status == "sending"]  # the sends in hand were finished and marked

            bot = await RunningBot(app, ["telegram"]).start()
            await until(lambda: reached() == 600 and len(server.sent(GROUP)) == 1, timeout=90, what="every recipient")
            rows = await _settled(app, bid)
            # The teacher's progress view, in the same chat.
            screen = await teacher.send("/menu")
            screen = await teacher.tap("Tiến độ bài đã gửi")
            screen = await teacher.tap("Bài 1 an-toan-giao-thong")
        finally:
            await bot.stop()

    # Exactly once: per student chat, one accepted sendMessage; none for the blocked.
    accepted = Counter(c.chat_id for c in server.sent() if c.method == "sendMessage" and c.chat_id in chats)
    assert set(accepted) == chats - blocked
    assert set(accepted.values()) == {1}
    assert all("📚 Thầy cô giao bài mới" in c.text for c in server.sent() if c.chat_id in chats)
    assert {r.status for r in rows} == {"sent", "blocked"}
    assert sorted(r.chat_id for r in rows if r.status == "blocked") == sorted(blocked)
    assert "Tổng: 600 em – đã nhận 588, đã mở 0, hoàn thành 0 (12 không liên lạc được)" in screen, screen
    assert "– không liên lạc được" in screen
    group_posts = server.sent(GROUP)
    assert len(group_posts) == 1 and "/assigned" in group_posts[0].text

    # The limits, as the fake server saw them (every call to the bot's API that sends to a chat).
    sends = [c for c in server.calls() if c.chat_id is not None and c.method.startswith(("send", "edit"))]
    broadcast = [c for c in sends if c.chat_id in chats or c.chat_id == GROUP]
    # Overall: the bot paces itself at 25/s (TELEGRAM_RATE_PER_SECOND, counted over 1.05 s windows when the
    # calls are made). The fake server runs in the same event loop, so a busy moment of the loop (a database
    # commit) delays a few calls and the server sees them bunched: over 1 s it may count slightly more than 25,
    # never more than Telegram's own limit (30/s); over 5 s the pace is 25/s at most.
    assert busiest([c.at for c in sends], 1.0) <= 30
    assert busiest([c.at for c in sends], 5.0) <= 125
    per_chat: dict[str, list[float]] = {}
    for c in broadcast:
        per_chat.setdefault(c.chat_id or "", []).append(c.at)
    gaps = [b - a for times in per_chat.values() for a, b in itertools.pairwise(times)]
    assert all(g >= 1.0 for g in gaps), min(gaps)
    assert busiest(per_chat[GROUP], 60.0) <= 20
    _report(sends, broadcast)


def _report(sends: list[Call], broadcast: list[Call]) -> None:
    """Figures for the record (not assertions): the rate the fake server saw."""
    times = sorted(c.at for c in broadcast)
    span = times[-1] - times[0]
    print(
        f"\nbroadcast calls: {len(broadcast)} in {span:.1f}s ({len(broadcast) / span:.1f}/s overall incl. the "
        f"pause for the restart); busiest 1 s window: {busiest([c.at for c in sends], 1.0)} calls; "
        f"429s: {sum(1 for c in sends if c.status == 429)}, 403s: {sum(1 for c in sends if c.status == 403)}"
    )


async def _broadcast_ids(app: App) -> list[int]:
    async with app.sessions() as s:
        return list((await s.execute(select(m.Broadcast.id).order_by(m.Broadcast.id))).scalars())


async def _settled(app: App, bid: int) -> list[m.Delivery]:
    """The rows once the last marks are committed (the fake saw the call a moment before)."""
    for _ in range(500):
        rows = await delivery_rows(app, bid)
        if not {r.status for r in rows} & {"pending", "sending"}:
            return rows
        await asyncio.sleep(0.02)
    raise AssertionError("deliveries not settled")
