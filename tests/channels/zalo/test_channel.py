"""Zalo channel behaviour: de-duplication, self-echo, non-text messages, webhook security, retries, splitting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.accounts.seed import seed_demo
from bot.app import App, build_app
from bot.channels.zalo.app import ZaloChannel, ZaloConfigError
from bot.config import Settings
from bot.content.loader import load_content
from bot.core.context import CoreSettings
from db import models as m
from db.base import Base
from tests.channels.zalo.conftest import SECRET, ZaloBot, option
from tests.channels.zalo.test_flows import onboard
from tests.conftest import FakeClock
from tests.fakes.content import write_test_content
from tests.fakes.zalo_server import FakeZaloServer, image_update, sticker_update, text_update


async def inbox(app: App) -> list[m.InboundUpdate]:
    async with app.sessions() as s:
        return list((await s.execute(select(m.InboundUpdate).order_by(m.InboundUpdate.id))).scalars())


async def test_a_duplicate_event_gets_one_reply(bot: ZaloBot) -> None:
    update = text_update("zd", "/help", message_id="m-dup-1")
    await bot.send(update)
    await bot.send(update)
    assert len(bot.fake.texts("zd")) == 1 and "111" in bot.fake.texts("zd")[0]
    assert [r.external_id for r in await inbox(bot.app)] == ["message.text.received:m-dup-1"]


async def test_the_bots_own_echoes_are_ignored(bot: ZaloBot) -> None:
    await bot.say("ze", "/help")
    await bot.say("ze", "/help")
    # Two replies were echoed back by the platform as updates from the bot; none was stored or answered.
    assert len(bot.fake.texts("ze")) == 2
    rows = await inbox(bot.app)
    assert len(rows) == 2 and all(r.payload["message"]["from"]["id"] == "ze" for r in rows)
    async with bot.app.sessions() as s:
        accounts = (await s.execute(select(m.ChannelAccount.external_id))).scalars().all()
    assert accounts == ["ze"]


async def test_photos_and_stickers_get_a_friendly_text_only_note(app: App, bot: ZaloBot) -> None:
    await bot.send(image_update("zi"))
    await bot.send(sticker_update("zi"))
    texts = bot.fake.texts("zi")
    assert len(texts) == 2 and all("Mình chỉ đọc được tin nhắn chữ" in t for t in texts)
    # In the middle of a question, the question stays pending and is shown again.
    demo = await seed_demo(app.uow_factory, app.clock)
    await onboard(bot, "zj", demo.class_code)
    screen = await bot.say("zj", "/practice")
    screen = await bot.say("zj", option(screen, "ma túy"))
    before = len(bot.fake.texts("zj"))
    await bot.send(image_update("zj"))
    note = bot.fake.texts("zj")[before]
    assert "Mình chỉ đọc được tin nhắn chữ" in note and "Câu 1/5" in note


async def test_429_and_403_on_send_are_retried_until_delivered(bot: ZaloBot) -> None:
    bot.fake.fail_next("sendMessage", 429, times=2, retry_after=2)
    assert "111" in await bot.say("zr", "/help")
    assert bot.sleeps[:2] == [2.0, 2.0]  # the client waited as told
    bot.fake.fail_next("sendMessage", 403, times=4)  # more than the client's own retries: the inbox retries
    assert "111" in await bot.say("zr", "trợ giúp")
    assert len(bot.fake.texts("zr")) == 2
    assert [r.status for r in await inbox(bot.app)] == ["done", "done"]


async def test_a_webhook_call_with_a_wrong_secret_gets_401_and_stores_nothing(webhook_bot: ZaloBot) -> None:
    fake = webhook_bot.fake
    assert fake.webhook_secret == SECRET
    for wrong in ("", "s3cret-for-test", SECRET + "x"):
        assert await fake.post_webhook(text_update("zw", "/help"), secret=wrong) == 401
    assert await fake.post_webhook({}, raw=b"{not json", secret="nope") == 401
    assert await inbox(webhook_bot.app) == [] and fake.texts() == []
    assert await fake.post_webhook({}, raw=b"{not json") == 400


async def test_webhook_mode_serves_the_bare_and_the_wrapped_update(app: App, webhook_bot: ZaloBot) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    screen = await onboard(webhook_bot, "zw", demo.class_code)
    assert "Em muốn làm gì tiếp theo?" in screen
    wrapped = {"ok": True, "result": text_update("zw", "/help", message_id="wrapped-1")}
    assert await webhook_bot.send(wrapped) == 200
    assert "111" in webhook_bot.fake.texts("zw")[-1]
    assert await webhook_bot.send(wrapped) == 200  # a duplicate: acknowledged, not answered again
    assert sum("111" in t for t in webhook_bot.fake.texts("zw")) == 1
    # Echoes came through the webhook too, and were dropped before being stored.
    rows = await inbox(app)
    assert all(r.payload["message"]["from"]["id"] == "zw" for r in rows)


async def test_webhook_refuses_to_start_without_a_secret(app: App, zalo: FakeZaloServer) -> None:
    for secret in (None, "short"):
        app.settings = app.settings.model_copy(
            update={
                "zalo_bot_token": SecretStr("123:TEST"),
                "zalo_api_base": zalo.url,
                "zalo_webhook_url": "https://bot.example.org/zalo/webhook",
                "zalo_webhook_secret": SecretStr(secret) if secret else None,
            }
        )
        with pytest.raises(ZaloConfigError, match="ZALO_WEBHOOK_SECRET"):
            ZaloChannel(app.settings, app.channel_deps())
    assert zalo.calls == []


async def test_polling_refuses_to_start_while_a_webhook_is_set(app: App, zalo: FakeZaloServer) -> None:
    zalo.webhook_url, zalo.webhook_secret = "https://other.example.org/hook", "x" * 12
    runner = ZaloBot(app, zalo)
    with pytest.raises(ZaloConfigError, match="webhook is set"):
        await runner.start()
    assert zalo.webhook_url  # not silently taken over
    runner = await ZaloBot(app, zalo).start(zalo_replace_webhook=True)
    try:
        assert zalo.webhook_url == "" and "111" in await runner.say("zp", "/help")
    finally:
        await runner.close()


@pytest.fixture
async def big_app(database_url: str, tmp_path: Path) -> AsyncIterator[App]:
    content = load_content(write_test_content(tmp_path / "content", questions_per_topic=60))
    settings = Settings(database_url=database_url, practice_questions=30, _env_file=None)  # type: ignore[call-arg]
    app = build_app(settings, clock=FakeClock(), content=content, core_settings=CoreSettings())
    async with app.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    try:
        yield app
    finally:
        await app.close()


async def test_a_long_reply_is_split_under_2000_characters(big_app: App, zalo: FakeZaloServer) -> None:
    bot = await ZaloBot(big_app, zalo).start()
    try:
        demo = await seed_demo(big_app.uow_factory, big_app.clock)
        await onboard(bot, "zl", demo.class_code)
        screen = await bot.say("zl", "/practice")
        screen = await bot.say("zl", option(screen, "ma túy"))
        for i in range(30):
            assert f"Câu {i + 1}/30" in screen
            screen = await bot.say("zl", option(screen, "sai một"))
        last = bot.fake.texts("zl")[-3:]
    finally:
        await bot.close()
    assert "Em đúng 0/30 câu" in screen
    assert len(screen) > 4000 and all(len(t) <= 2000 for t in bot.fake.texts("zl"))
    assert last[-1].endswith("👉 Gõ số (1–3) để chọn.")  # the choices stay together, at the end
    assert all(not t.startswith((" ", "\n")) for t in last)
    async with big_app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(m.AttemptAnswer))).scalar_one() == 30


async def test_unreachable_api_at_start_is_not_swallowed(app: App) -> None:
    app.settings = app.settings.model_copy(
        update={"zalo_bot_token": SecretStr("123:TEST"), "zalo_api_base": "http://127.0.0.1:9"}
    )
    channel = ZaloChannel(app.settings, app.channel_deps())
    channel.client.retries = 0
    with pytest.raises(Exception, match="getMe"):
        await asyncio.wait_for(channel.run(asyncio.Event()), 10)


async def test_the_same_update_ten_times_at_once_is_stored_and_answered_once(webhook_bot: ZaloBot) -> None:
    update = text_update("zc", "/help", message_id="same-10")
    statuses = await asyncio.gather(*(webhook_bot.fake.post_webhook(update) for _ in range(10)))
    assert statuses == [200] * 10
    webhook_bot.keys.add("message.text.received:same-10")
    await webhook_bot.settle()
    assert len(webhook_bot.fake.texts("zc")) == 1 and len(await inbox(webhook_bot.app)) == 1


async def test_the_webhook_answers_500_when_the_update_cannot_be_stored(webhook_bot: ZaloBot) -> None:
    async with webhook_bot.app.engine.begin() as conn:
        await conn.run_sync(lambda c: m.InboundUpdate.__table__.drop(c))
    assert await webhook_bot.fake.post_webhook(text_update("zf", "/help")) == 500  # Zalo will deliver it again
    assert webhook_bot.fake.texts("zf") == []
    too_big = b'{"message": "' + b"x" * 300_000 + b'"}'
    assert await webhook_bot.fake.post_webhook({}, raw=too_big) == 413


async def test_the_transport_reports_each_outcome_for_broadcasts(bot: ZaloBot) -> None:
    from bot.channels.zalo.transport import RateLimiter
    from bot.core.delivery import DeliveryStatus
    from bot.core.events import ChannelAddress
    from bot.core.replies import Reply
    from tests.channels.zalo.test_render_and_mapping import FakeTime

    assert bot.channel is not None
    transport = bot.channel.transport
    t = FakeTime()
    transport.limiter = RateLimiter(clock=t, sleep=t.sleep)
    student = ChannelAddress("zalo", "zb", "zb")
    notice = [Reply("📣 Hội thi bắt đầu lúc 8 giờ sáng mai. Em nhớ tham gia nhé!")]
    assert (await transport.deliver(student, notice)).status is DeliveryStatus.SENT
    bot.fake.fail_next("sendMessage", 429, times=10, retry_after=5)
    result = await transport.deliver(student, notice)
    assert result.status is DeliveryStatus.RETRY and result.retry_after == 5
    bot.fake.fail_next("sendMessage", 403, times=10)
    assert (await transport.deliver(student, notice)).status is DeliveryStatus.RETRY  # transient on Zalo
    assert t.slept[0] == 5.0  # after the 429, nothing went out to anyone for 5 seconds
    bot.fake._failures.clear()
    bot.fake.fail_next("sendMessage", 400, description="Bad request: chat not found")
    assert (await transport.deliver(student, notice)).status is DeliveryStatus.FAILED
    assert bot.fake.texts("zb") == [notice[0].text]


async def test_a_split_reply_interrupted_half_way_is_not_sent_twice(bot: ZaloBot) -> None:
    from bot.core.delivery import DeliveryStatus
    from bot.core.events import ChannelAddress
    from bot.core.replies import Reply

    assert bot.channel is not None
    transport = bot.channel.transport
    student = ChannelAddress("zalo", "zs", "zs")
    text = " ".join(f"Điều {i}: một câu khá dài về an toàn giao thông cho học sinh." for i in range(80))
    long_reply = [Reply(text)]  # about 5,000 characters
    bot.fake.fail_next("sendMessage", 403, times=10, after=1)  # the 1st part goes, then Zalo stumbles
    assert (await transport.deliver(student, long_reply)).status is DeliveryStatus.RETRY
    bot.fake._failures.clear()
    assert (await transport.deliver(student, long_reply)).status is DeliveryStatus.SENT
    parts = bot.fake.texts("zs")
    assert len(parts) == 3 and len(set(parts)) == 3 and all(len(p) <= 2000 for p in parts)


async def test_broadcast_transport_for_the_command_line(app: App, zalo: FakeZaloServer) -> None:
    from bot.channels.zalo.app import broadcast_transport
    from bot.core.delivery import DeliveryStatus
    from bot.core.events import ChannelAddress
    from bot.core.replies import Reply

    app.settings = app.settings.model_copy(update={"zalo_bot_token": SecretStr("123:TEST"), "zalo_api_base": zalo.url})
    async with broadcast_transport(app.settings, app.channel_deps()) as transport:
        assert transport.channel == "zalo"
        result = await transport.deliver(ChannelAddress("zalo", "zn", "zn"), [Reply("📣 Bài học mới đã có!")])
    assert result.status is DeliveryStatus.SENT and zalo.texts("zn") == ["📣 Bài học mới đã có!"]
