"""A child's words about being hurt are answered with the hotlines on Telegram too, and not even the stored
inbound update keeps them."""

from __future__ import annotations

from sqlalchemy import select

from bot.accounts.seed import seed_demo
from bot.app import App
from db import models as m
from tests.channels.telegram.conftest import ChatUser, RunningBot
from tests.channels.telegram.test_flows import onboard
from tests.fakes.telegram_server import FakeTelegramServer


async def test_distress_is_answered_and_its_text_is_not_kept_in_the_inbox(
    app: App, server: FakeTelegramServer, telegram_bot: RunningBot
) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ChatUser(app, server, 1101)
    await onboard(student, f"/start {demo.class_code}")
    await student.send("Nguyễn Văn An")

    screen = await student.send("em bị mấy anh lớp trên đánh, em sợ lắm")
    assert "111 – Tổng đài quốc gia bảo vệ trẻ em" in screen and "113" in screen
    screen = await student.send("em muốn học bài")  # an ordinary message is kept as usual
    assert "Em muốn học chủ đề nào?" in screen

    async with app.sessions() as s:
        payloads = [str(p) for p in (await s.execute(select(m.InboundUpdate.payload))).scalars()]
    assert not any("sợ lắm" in p or "lớp trên đánh" in p for p in payloads), payloads
    assert any("em muốn học bài" in p for p in payloads)
