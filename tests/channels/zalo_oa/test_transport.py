"""The OA's rules through the real adapter: a refused token is refreshed once, files go up and then out as
files, and a follower outside the 7-day window is reported "chưa gửi được" to the teacher and not tried again."""

from __future__ import annotations

import io

import openpyxl
from sqlalchemy import select

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.channels.zalo_oa.transport import night_left
from bot.core.delivery import DeliveryStatus
from bot.core.events import ChannelAddress
from bot.core.replies import Attachment, Reply
from bot.core.roles import Role
from db import models as m
from tests.broadcasts.fakes import fake_sleep
from tests.channels.zalo_oa.conftest import OABot
from tests.channels.zalo_oa.test_flows import onboard
from tests.conftest import FakeClock
from tests.core.test_console_flows import option_number
from tests.web.test_results_pages import closed_round

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_an_expired_access_token_is_refreshed_once_and_the_reply_sent(app: App, oa_bot: OABot) -> None:
    await seed_demo(app.uow_factory, app.clock)
    assert "111" in await oa_bot.say("ou1", "/help")
    first = oa_bot.tokens.current
    oa_bot.fake.expire_all_tokens()  # the hour is over

    assert "111" in await oa_bot.say("ou1", "/help")
    assert oa_bot.tokens.expired_calls == [first]  # one expired(), with the token refused
    assert oa_bot.fake.tokens_issued == 2 and oa_bot.tokens.current != first
    assert [code for _path, code in oa_bot.fake.errors] == [-216]  # one refusal, then the one retry went through
    assert len(oa_bot.fake.texts("ou1")) == 2


async def test_a_results_workbook_reaches_an_oa_organizer_as_a_file(app: App, oa_bot: OABot, clock: FakeClock) -> None:
    round_id = await closed_round(app, clock, 3)
    async with app.uow_factory() as uow:
        organizer = await uow.users.create("zalo_oa", "org1", "Ban tổ chức", "vi", clock(), role=Role.ORGANIZER)
        await uow.users.update(organizer.id, onboarded=True)
        await uow.commit()
    await oa_bot.say("org1", "/contest")
    async with app.sessions() as s:
        title = (await s.scalars(select(m.Contest.title))).one()
        round_name = (await s.scalars(select(m.ContestRound.name).where(m.ContestRound.id == round_id))).one()
    await oa_bot.tap("org1", title)
    await oa_bot.tap("org1", round_name)
    screen = await oa_bot.tap("org1", "Tải kết quả")
    assert "(Excel)" in screen

    files = oa_bot.fake.files("org1")
    assert len(files) == 1 and files[0]["kind"] == "file" and files[0]["filename"].endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(files[0]["content"])).active
    assert sheet is not None and sheet.max_row >= 4  # a header and the three students


async def test_a_file_type_the_oa_refuses_or_too_big_becomes_a_clear_vietnamese_note(app: App, oa_bot: OABot) -> None:
    await seed_demo(app.uow_factory, app.clock)
    await oa_bot.say("ou2", "/help")  # the user wrote: replies may go
    oa_bot.fake.file_types = frozenset({"pdf"})  # this OA takes no workbooks
    transport = oa_bot.channel.transport  # type: ignore[union-attr]
    address = ChannelAddress("zalo_oa", "ou2", "ou2")
    replies = [
        Reply("Các tệp:", attachments=(Attachment("ket-qua.xlsx", b"PK..", XLSX),)),
        Reply("", attachments=(Attachment("bao-cao.pdf", b"%PDF" + b"x" * (6 * 1024 * 1024), "application/pdf"),)),
        Reply("", attachments=(Attachment("anh.png", b"\x89PNG" + b"x" * 100, "image/png"),)),
        Reply("", attachments=(Attachment("du-lieu.json", b"{}", "application/json"),)),
    ]
    result = await transport.reply(address, replies, quote="m1")
    assert result.status is DeliveryStatus.SENT
    texts = "\n".join(oa_bot.fake.texts("ou2")[1:])
    assert "«ket-qua.xlsx» có định dạng Zalo OA chưa nhận" in texts
    assert "«bao-cao.pdf» lớn quá" in texts and "«du-lieu.json» có định dạng Zalo OA chưa nhận" in texts
    assert [f["filename"] for f in oa_bot.fake.files("ou2")] == ["anh.png"]  # the small image went as an image
    assert oa_bot.fake.files("ou2")[0]["kind"] == "image"


async def test_a_follower_outside_the_window_is_reported_not_sent_and_not_retried(
    app: App, oa_bot: OABot, clock: FakeClock
) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    await onboard(oa_bot, "ou3", demo.class_code)
    clock.advance(days=8)  # the student has not written for 8 days

    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send("/menu")
    for label in ("Gửi bài cho lớp", "An toàn giao thông", "(lower_secondary)", "7A", "Tiếp tục", "1 tuần"):
        screen = await teacher.send(option_number(screen, label))
    screen = await teacher.send(option_number(screen, "Gửi ngay"))
    before = len(oa_bot.fake.sent)
    transports = {"zalo_oa": oa_bot.channel.transport}  # type: ignore[union-attr]
    await app.broadcast_sender(transports, clock, fake_sleep(clock)).run_until_empty()
    await app.broadcast_sender(transports, clock, fake_sleep(clock)).run_until_empty()  # and a later round
    assert len(oa_bot.fake.sent) == before and oa_bot.fake.errors == []  # never asked the OA, never again

    async with app.sessions() as s:
        rows = (await s.execute(select(m.Delivery.status, m.Delivery.attempts))).all()
    assert [tuple(r) for r in rows] == [("failed", 1)]
    screen = await teacher.send("/menu")
    screen = await teacher.send(option_number(screen, "Tiến độ bài đã gửi"))
    screen = await teacher.send("1")
    assert "1 chưa gửi được" in screen
    assert "chưa gửi được (người nhận chưa nhắn tin cho Zalo OA của trường trong 7 ngày qua)" in screen


async def test_a_refusal_by_the_oa_is_remembered_until_the_user_writes_again(app: App, oa_bot: OABot) -> None:
    await seed_demo(app.uow_factory, app.clock)
    await oa_bot.say("ou4", "/help")
    oa_bot.fake.unfollowed.add("ou4")  # the OA knows it before any event tells us
    transport = oa_bot.channel.transport  # type: ignore[union-attr]
    address = ChannelAddress("zalo_oa", "ou4", "ou4")
    first = await transport.deliver(address, [Reply("🔔 Nhắc bài")])
    second = await transport.deliver(address, [Reply("🔔 Nhắc bài")])
    assert first.status is DeliveryStatus.FAILED and first.error == "not_sent:oa_not_following"
    assert second.error == "not_sent:oa_not_following"
    assert [code for _p, code in oa_bot.fake.errors] == [-213]  # the second was not asked of the OA
    await oa_bot.say("ou4", "em chào thầy cô")  # writes again: the window opens
    assert (await transport.deliver(address, [Reply("🔔 Nhắc bài")])).status is DeliveryStatus.SENT


async def test_an_unfollow_closes_the_window_and_marks_the_account_unreachable(app: App, oa_bot: OABot) -> None:
    await seed_demo(app.uow_factory, app.clock)
    await oa_bot.say("ou6", "/help")
    await oa_bot.post(oa_bot.fake.follow_event("ou6", "unfollow"))
    transport = oa_bot.channel.transport  # type: ignore[union-attr]
    address = ChannelAddress("zalo_oa", "ou6", "ou6")
    result = await transport.deliver(address, [Reply("🔔 Nhắc bài")])
    assert result.error == "not_sent:oa_not_following" and oa_bot.fake.errors == []  # not even asked
    async with app.sessions() as s:
        account = (await s.execute(select(m.ChannelAccount).where(m.ChannelAccount.external_id == "ou6"))).scalar_one()
        assert account.unreachable
    await oa_bot.post(oa_bot.fake.follow_event("ou6"))  # follows again
    assert (await transport.deliver(address, [Reply("🔔 Nhắc bài")])).status is DeliveryStatus.SENT
    async with app.sessions() as s:
        account = (await s.execute(select(m.ChannelAccount).where(m.ChannelAccount.external_id == "ou6"))).scalar_one()
        assert not account.unreachable


async def test_no_message_the_oa_starts_goes_out_at_night(app: App, oa_bot: OABot, clock: FakeClock) -> None:
    await seed_demo(app.uow_factory, app.clock)
    await oa_bot.say("ou5", "/help")
    clock.advance(hours=14)  # 09:00 + 14 h = 23:00 in Vietnam
    transport = oa_bot.channel.transport  # type: ignore[union-attr]
    result = await transport.deliver(ChannelAddress("zalo_oa", "ou5", "ou5"), [Reply("🔔 Nhắc bài")])
    assert result.status is DeliveryStatus.RETRY and result.retry_after == 7 * 3600  # waits for 06:00
    assert len(oa_bot.fake.sent) == 1
    assert night_left(clock()) == 7 * 3600
    clock.advance(hours=7)
    assert night_left(clock()) == 0
    # A reply to what the user writes at night goes at once (replies are not the OA's own messages).
    assert "111" in await oa_bot.say("ou5", "/help")
