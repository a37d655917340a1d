"""Account linking: a one-time code joins a second platform account to the user who asked for it."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import render
from bot.core.events import ChannelAddress, IncomingEvent
from db import models as m
from tests.conftest import FakeClock
from tests.core.test_console_flows import option_number


class Account:
    def __init__(self, app: App, channel: str, user_id: str) -> None:
        self.app, self.address = app, ChannelAddress(channel, user_id, user_id)

    async def send(self, text: str) -> str:
        replies = await self.app.dispatcher.handle_safely(IncomingEvent.text_message(self.address, text))
        return "\n\n".join(render(r) for r in replies)


async def onboarded_student(app: App, account: Account, code: str) -> None:
    for text in ("/start", "1", "1", code, "Trần Thị Mai"):
        await account.send(text)


async def counts(app: App) -> tuple[int, int, int]:
    async with app.sessions() as s:
        users = (await s.execute(select(func.count()).select_from(m.User))).scalar_one()
        accounts = (await s.execute(select(func.count()).select_from(m.ChannelAccount))).scalar_one()
        attempts = (await s.execute(select(func.count()).select_from(m.QuizAttempt))).scalar_one()
    return users, accounts, attempts


def link_code(screen: str) -> str:
    found = re.search(r"Mã liên kết của em: (LK[A-Z0-9]{8})", screen)
    assert found, screen
    return found.group(1)


async def test_a_zalo_account_joins_the_telegram_student_and_shares_progress(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    telegram = Account(app, "telegram", "111")
    await onboarded_student(app, telegram, demo.class_code)
    screen = await telegram.send("/practice")
    screen = await telegram.send(option_number(screen, "ma túy"))
    screen = await telegram.send(option_number(screen, "Đáp án đúng"))
    code = link_code(await telegram.send("/link"))

    zalo = Account(app, "zalo", "z-abc")
    assert "Tiếng Việt" in await zalo.send("xin chào")  # a new user on Zalo
    before = await counts(app)
    screen = await zalo.send(f"Liên kết: {code.lower()}")
    assert "Đã liên kết" in screen and "Em muốn làm gì tiếp theo?" in screen
    users, accounts, attempts = await counts(app)
    assert (users, accounts, attempts) == (before[0] - 1, before[1], before[2])
    async with app.sessions() as s:
        owners = dict((await s.execute(select(m.ChannelAccount.external_id, m.ChannelAccount.user_id))).all())
        audit = (await s.execute(select(m.AuditLog.action))).scalars().all()
    assert owners["z-abc"] == owners["111"] and "account.link" in audit
    # The same progress, name and class from either platform.
    progress = await zalo.send("/progress")
    assert progress == await telegram.send("/progress")
    # The code works once.
    other = Account(app, "zalo", "z-other")
    assert "không đúng hoặc đã hết hạn" in await other.send(f"/link {code}")


async def test_bad_expired_and_own_codes_change_nothing(app: App, clock: FakeClock) -> None:
    telegram = Account(app, "telegram", "222")
    await telegram.send("/start")
    code = link_code(await telegram.send("liên kết"))
    assert "chính tài khoản này" in await telegram.send(f"/link {code}")
    zalo = Account(app, "zalo", "z-2")
    await zalo.send("/start")
    before = await counts(app)
    assert "không đúng hoặc đã hết hạn" in await zalo.send("/link LKAAAAAAAA")
    assert "không đúng hoặc đã hết hạn" in await zalo.send("/link K7M2QX")
    clock.advance(minutes=16)
    assert "không đúng hoặc đã hết hạn" in await zalo.send(f"/link {code}")
    assert await counts(app) == before
    # Asking again replaces the old code.
    new = link_code(await telegram.send("/link"))
    assert new != code and "Đã liên kết" in await zalo.send(f"/link {new}")


async def test_accounts_with_learning_data_are_not_merged(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    telegram = Account(app, "telegram", "333")
    zalo = Account(app, "zalo", "z-3")
    await onboarded_student(app, telegram, demo.class_code)
    await onboarded_student(app, zalo, demo.class_code)
    fresh = Account(app, "telegram", "444")
    await fresh.send("/start")

    # The account with data types the code of a new account: told to link the other way round.
    code = link_code(await fresh.send("/link"))
    assert "làm ngược lại" in await zalo.send(f"/link {code}")
    # Both have data: refused.
    code = link_code(await telegram.send("/link"))
    before = await counts(app)
    assert "Cả hai tài khoản" in await zalo.send(f"/link {code}")
    assert await counts(app) == before
