"""The teacher's counters are consistent by construction: completed ⊆ opened ⊆ delivered, whatever the order in
which deliveries, openings and completions happen; and the console case of the issue (opened from "Bài được
giao" before the message went out)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.broadcasts import service as broadcasts
from bot.broadcasts.ports import BroadcastRec
from bot.channels.console.app import ConsoleSession
from bot.core.delivery import DeliveryResult, DeliveryStatus
from bot.core.events import ChannelAddress
from bot.core.replies import Reply
from tests.broadcasts.fakes import fake_sleep
from tests.broadcasts.helpers import make_school
from tests.conftest import FakeClock
from tests.core.test_console_flows import onboard_student, option_number

LESSON = "ma-tuy-lower-secondary-1"


@dataclass
class GateTransport:
    """Reaches a chat only once it is let through; blocked chats answer 403, the others a transient error."""

    channel: str
    let_through: set[str] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)

    async def deliver(self, address: ChannelAddress, replies: list[Reply]) -> DeliveryResult:
        if address.chat_id in self.blocked:
            return DeliveryResult(DeliveryStatus.BLOCKED, error="Forbidden")
        if address.chat_id in self.let_through:
            return DeliveryResult(DeliveryStatus.SENT)
        return DeliveryResult(DeliveryStatus.RETRY, error="timeout")


def check_invariant(view: broadcasts.Progress) -> None:
    for counts in [view.total, *view.per_class.values()]:
        assert counts.completed <= counts.opened <= counts.delivered <= counts.students, counts
        settled = counts.delivered + counts.unreachable + counts.waiting + counts.unknown + counts.failed
        assert settled == counts.students, counts
    for s in view.students:
        assert not s.completed or s.opened, s
        assert not s.opened or s.delivery == "delivered", s


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_counters_stay_nested_whatever_the_order_of_events(app: App, clock: FakeClock, seed: int) -> None:
    rng = random.Random(seed)
    school = await make_school(app, classes=2, per_class=12)
    everyone = [u for ids in school.students.values() for u in ids]
    async with app.uow_factory() as uow:
        bc, _plan = await broadcasts.create_broadcast(
            uow, school.teacher, "lesson", LESSON, school.class_ids, app.content, app.clock()
        )
        await uow.commit()
    gate = GateTransport("telegram", blocked={school.chats[u] for u in rng.sample(everyone, 4)})
    sender = app.broadcast_sender({"telegram": gate}, clock, fake_sleep(clock), max_attempts=1000)

    # Each student's events, interleaved at random: the message reaches them, they open it, they complete it.
    events = [(kind, u) for u in everyone for kind in ("reach", "open", "complete") if rng.random() < 0.7]
    rng.shuffle(events)
    opened: set[int] = set()
    completed: set[int] = set()
    for step in range(0, len(events), 7):
        async with app.uow_factory() as uow:
            for kind, uid in events[step : step + 7]:
                if kind == "reach":
                    gate.let_through.add(school.chats[uid])
                elif kind == "open":
                    await uow.progress.open(uid, LESSON, "ma-tuy", 1, app.clock())
                    opened.add(uid)
                elif uid in opened:  # a lesson is completed only once opened
                    await uow.progress.complete(uid, LESSON, 2, app.clock())
                    completed.add(uid)
            await uow.commit()
        await sender.drain_once()
        clock.advance(hours=2)  # every retry is due again

        view = await _progress(app, bc)
        check_invariant(view)
        sent = {u for u in everyone if school.chats[u] in gate.let_through and school.chats[u] not in gate.blocked}
        assert view.total.opened == len(opened) and view.total.completed == len(completed)
        assert view.total.delivered == len(sent | opened)
        assert view.total.unreachable == len({u for u in everyone if school.chats[u] in gate.blocked} - opened)


async def _progress(app: App, bc: BroadcastRec) -> broadcasts.Progress:
    async with app.uow_factory() as uow:
        return await broadcasts.progress(uow, bc)


async def test_a_student_who_opened_from_the_assigned_list_has_received_it(app: App, clock: FakeClock) -> None:
    """The issue's screen: the message had not gone out (no sender ran), yet one student did the lesson from
    "Bài được giao"; the teacher read "đã nhận 0, đã mở 1, hoàn thành 1"."""
    demo = await seed_demo(app.uow_factory, app.clock)
    an = ConsoleSession(app.dispatcher, user="hs")
    await onboard_student(app, an, demo.class_code, "Nguyễn Văn An")
    await onboard_student(app, ConsoleSession(app.dispatcher, user="hs2"), demo.class_code, "Trần Thị Bình")

    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send("/menu")
    screen = await teacher.send(option_number(screen, "Gửi bài cho lớp"))
    screen = await teacher.send(option_number(screen, "An toàn giao thông"))
    screen = await teacher.send(option_number(screen, "(lower_secondary)"))
    screen = await teacher.send(option_number(screen, "7A"))
    screen = await teacher.send(option_number(screen, "Tiếp tục"))
    screen = await teacher.send(option_number(screen, "1 tuần"))
    screen = await teacher.send(option_number(screen, "Gửi ngay"))

    screen = await an.send("bài được giao")
    screen = await an.send(option_number(screen, "Bài 1 an-toan-giao-thong"))
    assert "(1/4)" in screen
    for _card in range(3):
        screen = await an.send(option_number(screen, "Tiếp theo"))
    screen = await an.send(option_number(screen, "Làm câu hỏi kiểm tra"))
    for _q in range(2):
        screen = await an.send(option_number(screen, "Đáp án đúng"))
    assert "Em đã hoàn thành bài" in screen

    screen = await teacher.send("/menu")
    screen = await teacher.send(option_number(screen, "Tiến độ bài đã gửi"))
    screen = await teacher.send("1")
    assert "2 em – đã nhận 1, đã mở 1, hoàn thành 1 (1 đang chờ gửi)" in screen
