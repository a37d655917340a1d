"""People on the OA through the real adapter: a parent links to their child with the parent code and gets the
school's pledge requests there; one person on Telegram, the Zalo Bot and the Zalo OA is one user."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.app import App
from bot.runtime.notices import deliver_notices
from db import models as m
from db import models_oa
from tests.accounts.test_link_accounts import Account, link_code, onboarded_student
from tests.channels.zalo_oa.conftest import OABot
from tests.conftest import FakeClock
from tests.core.test_console_flows import option_number
from tests.pledges.helpers import STUDENTS_7A, district, join, notices_for, publish
from tests.reliability.helpers import code_in


async def test_a_parent_on_the_oa_links_to_their_child_and_gets_the_pledge_request(app: App, oa_bot: OABot) -> None:
    d = await district(app)
    student = await join(app, "hs1", d.code_7a, STUDENTS_7A["hs1"], "7A")
    screen = await student.send("/privacy")
    code = code_in(await student.send(option_number(screen, "Mã để bố mẹ đồng ý")))

    screen = await oa_bot.say("op1", f"/start {code}")
    assert "Kính chào quý phụ huynh!" in screen and "Nguyễn Văn An" in screen
    assert [b["title"] for b in oa_bot.last_buttons("op1")] == ["✅ Tôi đồng ý", "Tôi không đồng ý"]
    screen = await oa_bot.tap("op1", "Tôi đồng ý")
    assert "đã ghi nhận sự đồng ý cho con Nguyễn Văn An" in screen
    async with app.sessions() as s:
        link = (await s.execute(select(m.ParentLink))).scalar_one()
        parent = (await s.execute(select(m.ChannelAccount).where(m.ChannelAccount.channel == "zalo_oa"))).scalar_one()
        assert link.used_by == parent.user_id
        consent = (await s.execute(select(m.Consent).where(m.Consent.kind == "guardian"))).scalar_one()
        assert consent.user_id == link.student_id and consent.method == "parent_link"  # the child's, by the parent

    await publish(app)  # the school asks students and their parents to sign the pledge
    pending = await notices_for(app, "op1")
    assert pending, "the parent has a pledge request"
    before = len(oa_bot.fake.messages("op1"))
    sent = await deliver_notices(app.uow_factory, app.clock, {"zalo_oa": oa_bot.channel.transport})  # type: ignore[union-attr]
    assert sent >= 1
    texts = oa_bot.fake.texts("op1")[before:]
    assert texts and pending[-1] in texts
    # A message the OA starts: nothing to quote.
    assert all("quote_message_id" not in msg for msg in oa_bot.fake.messages("op1")[before:])


async def test_one_person_on_telegram_the_zalo_bot_and_the_oa_is_one_user(app: App, oa_bot: OABot) -> None:
    d = await district(app)
    telegram = Account(app, "telegram", "111")
    await onboarded_student(app, telegram, d.code_7a)
    screen = await telegram.send("/practice")
    screen = await telegram.send(option_number(screen, "ma túy"))
    await telegram.send(option_number(screen, "Đáp án đúng"))

    assert "Tiếng Việt" in [b["title"] for b in (await _first_buttons(oa_bot, "ou-link"))]
    screen = await oa_bot.say("ou-link", f"Liên kết: {link_code(await telegram.send('/link')).lower()}")
    assert "Đã liên kết" in screen
    zalo = Account(app, "zalo", "z-abc")
    await zalo.send("/start")
    assert "Đã liên kết" in await zalo.send(f"/link {link_code(await telegram.send('/link'))}")

    async with app.sessions() as s:
        owners = dict((await s.execute(select(m.ChannelAccount.channel, m.ChannelAccount.user_id))).all())
        users = (await s.execute(select(func.count()).select_from(m.User).where(m.User.role == "student"))).scalar_one()
    assert owners["telegram"] == owners["zalo"] == owners["zalo_oa"] and users == 1
    # The same progress from every platform.
    progress = await telegram.send("/progress")
    on_oa = await oa_bot.say("ou-link", "/progress")

    def figures(screen: str) -> list[str]:
        return [line for line in screen.splitlines() if "đã học" in line]

    assert len(figures(progress)) == 5 and figures(progress) == figures(on_oa)
    # The practice taken on Telegram belongs to the one user the OA account now is.
    async with app.sessions() as s:
        attempt = (await s.execute(select(m.QuizAttempt.user_id))).scalar_one()
    assert attempt == owners["zalo_oa"]


async def _first_buttons(bot: OABot, user: str) -> list[dict[str, object]]:
    await bot.say(user, "xin chào")  # a new user on the OA
    return bot.last_buttons(user)


async def test_the_oa_interaction_times_go_with_an_erased_account_and_after_the_retention(
    app: App, oa_bot: OABot, clock: FakeClock
) -> None:
    await district(app)
    await oa_bot.say("ou7", "/help")
    await oa_bot.say("ou8", "/help")
    assert await follower_ids(app) == {"ou7", "ou8"}
    async with app.uow_factory() as uow:
        user = await uow.users.by_account("zalo_oa", "ou7")
        assert user is not None
        counts = await uow.privacy.erase(user.id)
        await uow.commit()
    assert counts["oa_followers"] == 1 and await follower_ids(app) == {"ou8"}

    clock.advance(days=31)
    async with app.uow_factory() as uow:
        now = clock()
        purged = await uow.privacy.purge_old(now - dt.timedelta(days=365), now - dt.timedelta(days=30), now)
        await uow.commit()
    assert purged["oa_followers"] == 1 and await follower_ids(app) == set()


async def follower_ids(app: App) -> set[str]:
    async with app.sessions() as s:
        return set((await s.execute(select(models_oa.OAFollower.user_id))).scalars())
