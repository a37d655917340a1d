"""Telegram's answers on the way out: 429 is waited out and the message retried, 403 marks the user
unreachable until they write again, long text is split, "message is not modified" and "query is too old" are
harmless."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.telegram.app import make_bot
from bot.channels.telegram.ratelimit import RateLimiter
from bot.channels.telegram.transport import TelegramTransport
from bot.core.delivery import DeliveryStatus
from bot.core.events import ChannelAddress, IncomingEvent
from bot.core.replies import Choice, ChoicePrompt, Reply
from db import models as m
from tests.channels.telegram.conftest import ChatUser, RunningBot
from tests.channels.telegram.test_flows import onboard
from tests.fakes.telegram_server import FakeTelegramServer


async def unreachable(app: App, user_id: int) -> bool:
    async with app.sessions() as s:
        return bool(
            (
                await s.execute(
                    select(m.ChannelAccount.unreachable).where(m.ChannelAccount.external_id == str(user_id))
                )
            ).scalar_one()
        )


async def inbox_statuses(app: App) -> set[str]:
    async with app.sessions() as s:
        return set((await s.execute(select(m.InboundUpdate.status))).scalars())


async def test_a_429_is_waited_out_and_the_message_sent_again(
    app: App, server: FakeTelegramServer, telegram_bot: RunningBot
) -> None:
    server.fail_next("sendMessage", 429, retry_after=1, chat_id=4001)
    user = ChatUser(app, server, 4001)
    assert "• 111 –" in await user.send("/help")
    first, second = server.calls("sendMessage", chat_id=4001)
    assert (first.status, second.status) == (429, 200) and first.text == second.text
    assert second.at - first.at >= 1.0  # nothing went out before retry_after had passed
    assert await inbox_statuses(app) == {"done"}


async def test_a_blocked_user_is_marked_unreachable_until_they_write_again(
    app: App, server: FakeTelegramServer, telegram_bot: RunningBot
) -> None:
    user = ChatUser(app, server, 4002)
    await user.send("/help")
    server.fail_next("sendMessage", 403, chat_id=4002, times=None)
    await user.send("/menu")
    assert await unreachable(app, 4002)
    assert len(server.calls("sendMessage", chat_id=4002)) == 2  # one attempt only: 403 is not retried
    assert await inbox_statuses(app) == {"done"}

    server.clear_failures()  # they unblocked the bot and wrote again
    assert "• 111 –" in await user.send("/help")
    assert not await unreachable(app, 4002)


async def test_transport_delivery_for_broadcasts(app: App, server: FakeTelegramServer) -> None:
    """What the broadcast sender uses: long text split at 4096, keyboard on the last part, 403 → BLOCKED."""
    bot = make_bot(server.token, server.url)
    transport = TelegramTransport(bot, RateLimiter(chat_per_second=50), app.uow_factory)
    try:
        async with app.uow_factory() as uow:
            await uow.users.create("telegram", "4003", "4003", "vi", app.clock())
            await uow.commit()
        address = ChannelAddress("telegram", "4003", "4003")
        paragraph = "Luật Giao thông đường bộ: trẻ em dưới 16 tuổi không được lái xe máy. " * 20
        text = "\n\n".join([paragraph] * 8)
        prompt = ChoicePrompt((Choice("tok", "Đã đọc"),))
        result = await transport.deliver(address, [Reply(text=text, prompt=prompt)])
        assert result.status is DeliveryStatus.SENT
        calls = server.calls("sendMessage", chat_id=4003)
        assert len(calls) >= 3 and all(len(c.text) <= 4096 for c in calls)
        assert "".join(c.text for c in calls) == text
        assert [bool(c.buttons) for c in calls] == [False] * (len(calls) - 1) + [True]

        server.fail_next("sendMessage", 403, chat_id=4003)
        result = await transport.deliver(address, [Reply(text="Bài học mới")])
        assert result.status is DeliveryStatus.BLOCKED and "blocked" in (result.error or "")
        assert await unreachable(app, 4003)
    finally:
        await bot.session.close()


async def test_a_server_error_is_sent_again_and_a_refusal_reported_with_telegrams_words(
    app: App, server: FakeTelegramServer
) -> None:
    """The reply calls go out as JSON (calls.py); Telegram's refusals must still be told apart as aiogram does."""
    bot = make_bot(server.token, server.url)
    transport = TelegramTransport(bot, RateLimiter(chat_per_second=50), app.uow_factory)
    address = ChannelAddress("telegram", "4004", "4004")
    try:
        server.fail_next("sendMessage", 502, "Bad Gateway", chat_id=4004)
        result = await transport.deliver(address, [Reply(text="Bài học mới: Phòng cháy")])
        assert result.status is DeliveryStatus.SENT
        assert [c.status for c in server.calls("sendMessage", chat_id=4004)] == [502, 200]

        server.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=4004)
        result = await transport.deliver(address, [Reply(text="Bài học mới: Giao thông")])
        assert result.status is DeliveryStatus.FAILED and result.error == "Bad Request: chat not found"
        assert len(server.calls("sendMessage", chat_id=4004)) == 3  # a refusal is not tried again
    finally:
        await bot.session.close()


async def test_not_modified_and_too_old_are_harmless(
    app: App, server: FakeTelegramServer, telegram_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ChatUser(app, server, 4004)
    await onboard(student, f"/start {demo.class_code}")
    await student.send("Lê Văn Cường")
    await student.tap("Học bài")
    await student.tap("An toàn giao thông")
    await student.tap("(lower_secondary)")
    sends = len(server.calls("sendMessage"))
    with caplog.at_level(logging.WARNING):
        server.fail_next("answerCallbackQuery", 400, "Bad Request: query is too old and response timeout expired")
        screen = await student.tap("Tiếp theo")
        assert "(2/4)" in screen  # the card still turned in place
        server.fail_next("editMessageText", 400, "Bad Request: message is not modified: specified new message content")
        await student.tap("Tiếp theo")
    assert server.calls("editMessageText")[-1].status == 400
    assert len(server.calls("sendMessage")) == sends  # nothing was re-sent as a new message
    assert await inbox_statuses(app) == {"done"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_tap_is_answered_even_when_its_handling_is_late(app: App, server: FakeTelegramServer) -> None:
    """With the answer deadline at 0 s (as if the inbox were very busy) the tap is answered empty at once, and the
    reply still follows."""
    from tests.channels.telegram.conftest import configure

    configure(app, server, telegram_callback_answer_seconds=0.0)
    bot = await RunningBot(app, server).start()
    try:
        student = ChatUser(app, server, 4005)
        await student.send("/start")
        screen = await student.tap("Tiếng Việt")
    finally:
        await bot.stop()
    assert "Em có đồng ý không?" in screen
    answers = server.calls("answerCallbackQuery")
    assert answers and not answers[0].params.get("text")
    assert answers[0].at <= server.calls("sendMessage")[-1].at


async def test_replies_skip_the_overall_limit_and_broadcasts_keep_it(app: App, server: FakeTelegramServer) -> None:
    """The transport on a virtual clock: 30 replies to 30 students go at once; 30 broadcast messages take over
    a second at 25/s."""
    from tests.channels.telegram.test_ratelimit import VirtualTime

    vt = VirtualTime()
    bot = make_bot(server.token, server.url)
    transport = TelegramTransport(bot, RateLimiter(clock=vt.clock, sleep=vt.sleep), app.uow_factory)
    try:
        for i in range(30):
            address = ChannelAddress("telegram", str(5000 + i), str(5000 + i))
            await transport.reply(IncomingEvent.text_message(address, "/help"), [Reply(text="Chào em")])
        assert vt.now == 0.0 and len(server.calls("sendMessage")) == 30
        for i in range(30):
            address = ChannelAddress("telegram", str(5100 + i), str(5100 + i))
            assert (await transport.deliver(address, [Reply(text="Bài học mới")])).status is DeliveryStatus.SENT
        assert vt.now >= 29 / 25
    finally:
        await bot.session.close()


async def test_a_reply_carrying_a_secret_link_goes_without_a_link_preview(app: App, server: FakeTelegramServer) -> None:
    """A sign-in link must not be fetched by Telegram's preview (it only shows a button, but nobody should see it)."""
    bot = make_bot(server.token, server.url)
    transport = TelegramTransport(bot, RateLimiter(chat_per_second=50), app.uow_factory)
    address = ChannelAddress("telegram", "4005", "4005")
    try:
        link = "https://quanly.example.vn/dang-nhap?t=abc"
        await transport.deliver(address, [Reply(text=f"Đường dẫn: {link}", link_preview=False)])
        await transport.deliver(address, [Reply(text="Bài học mới: https://example.vn/bai-hoc")])
        secret, ordinary = server.calls("sendMessage", chat_id=4005)
        assert secret.params["link_preview_options"] == {"is_disabled": True}
        assert "link_preview_options" not in ordinary.params
    finally:
        await bot.session.close()
