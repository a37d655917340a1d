"""Command menus by scope and language, class groups with lesson posts that open in the private chat, no
update lost across a restart, and one poller per bot."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.broadcasts.group_posts import lesson_posts_for_class
from bot.channels.telegram.app import PollingConflict, run
from bot.core.delivery import DeliveryStatus
from db import models as m
from tests.channels.telegram.conftest import ChatUser, RunningBot, configure, wait_handled
from tests.channels.telegram.test_flows import onboard
from tests.fakes.telegram_server import FakeTelegramServer

GROUP = -1001234


def scope(kind: str, **extra: object) -> str:
    return json.dumps({"type": kind, **extra}, sort_keys=True)


async def make_teacher(app: App, user_id: int) -> None:
    async with app.uow_factory() as uow:
        gv = await uow.users.by_account("console", "gv")
        assert gv is not None
        teacher = await uow.users.create("telegram", str(user_id), str(user_id), "vi", app.clock(), role="teacher")
        await uow.users.update(teacher.id, school_id=gv.school_id, onboarded=True, display_name="Cô Hoa")
        klass = (await uow.classes.for_teacher(gv.id))[0]
        await uow.users.update(gv.id, role="student")  # the demo class now belongs to the Telegram teacher
        await uow.commit()
    async with app.sessions() as s, s.begin():
        row = await s.get(m.SchoolClass, klass.id)
        assert row is not None
        row.teacher_id = teacher.id


async def test_command_menus_by_scope_and_language(app: App, server: FakeTelegramServer) -> None:
    await seed_demo(app.uow_factory, app.clock)
    await make_teacher(app, 5001)
    configure(app, server)
    bot = await RunningBot(app, server).start()
    try:
        await server.wait_for(lambda s: (scope("chat", chat_id=5001), "") in s.commands)
    finally:
        await bot.stop()
    students_vi = server.commands[(scope("all_private_chats"), "")]
    students_en = server.commands[(scope("all_private_chats"), "en")]
    assert server.commands[(scope("default"), "")] == students_vi
    assert {"command": "help", "description": "Trợ giúp và số điện thoại khẩn cấp"} in students_vi
    assert [c["command"] for c in students_en] == [c["command"] for c in students_vi]
    assert [c["command"] for c in server.commands[(scope("all_group_chats"), "")]] == ["linkclass", "help"]
    teacher = [c["command"] for c in server.commands[(scope("chat", chat_id=5001), "")]]
    assert "newclass" in teacher and "linkclass" in teacher and "progress" not in teacher


async def test_a_teacher_links_the_class_group_and_lessons_open_in_private(
    app: App, server: FakeTelegramServer, telegram_bot: RunningBot
) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    await make_teacher(app, 5002)

    async def in_group(user_id: int, text: str) -> list[str]:
        update = server.enqueue_update(server.message_update(user_id, text, chat_id=GROUP, chat_type="supergroup"))
        await wait_handled(app, update["update_id"])
        return [c.text for c in server.sent(GROUP)]

    # Chatter in the group is not for the bot; a student cannot link; commands for another bot are ignored.
    assert await in_group(5003, "chào cả lớp") == []
    assert await in_group(5003, "/linkclass@other_bot ABC") == []
    assert "Chỉ thầy cô chủ nhiệm" in (await in_group(5003, f"/linkclass {demo.class_code}"))[-1]
    assert "nhắn riêng cho mình" in (await in_group(5003, "/lessons@antt_test_bot"))[-1]
    assert 'Mã lớp "ZZZZZZ" không đúng' in (await in_group(5002, "/linkclass ZZZZZZ"))[-1]
    assert "đã được gắn với lớp 7A" in (await in_group(5002, f"/linkclass@antt_test_bot {demo.class_code}"))[-1]
    async with app.sessions() as s:
        link = (await s.execute(select(m.ClassGroup))).scalar_one()
        assert (link.channel, link.chat_id) == ("telegram", str(GROUP))
        # A student first seen in the group is reached in their private chat, never through the group.
        account = (await s.execute(select(m.ChannelAccount).where(m.ChannelAccount.external_id == "5003"))).scalar_one()
        assert account.chat_id == "5003"

    # A lesson post for the class goes to its group, with a button that opens the lesson in the private chat.
    lesson = next(x for x in app.content.lessons.values() if x.band.value == "lower_secondary")
    async with app.uow_factory() as uow:
        posts = await lesson_posts_for_class(uow, app.i18n, lesson, link.class_id, "antt_test_bot")
    # The broadcast sender uses the running channel's transport, which shares the bot's rate limiter.
    assert telegram_bot.channel is not None
    result = await telegram_bot.channel.transport.deliver(posts[0].to, posts)  # type: ignore[arg-type]
    assert result.status is DeliveryStatus.SENT
    post = server.sent(GROUP)[-1]
    assert lesson.title in post.text
    deep_link = post.buttons[0]["url"]
    assert deep_link == f"https://t.me/antt_test_bot?start=L_{lesson.id}"

    student = ChatUser(app, server, 5004)
    await onboard(student, f"/start {demo.class_code}")
    await student.send("Phạm Thị Dung")
    screen = await student.send(f"/start {deep_link.rsplit('=', 1)[1]}")
    assert f"📖 {lesson.title} (1/" in screen


async def test_updates_sent_while_the_bot_was_down_are_all_handled(app: App, server: FakeTelegramServer) -> None:
    configure(app, server)
    queued = [server.enqueue_update(server.message_update(6000 + i, "/help")) for i in range(5)]
    bot = await RunningBot(app, server).start()
    try:
        for update in queued:
            await wait_handled(app, update["update_id"])
    finally:
        await bot.stop()
    assert all(any("111" in c.text for c in server.sent(6000 + i)) for i in range(5))
    assert not any(str(c.params.get("drop_pending_updates")).lower() == "true" for c in server.calls())


async def test_one_poller_per_bot(app: App, server: FakeTelegramServer) -> None:
    configure(app, server)
    first = await RunningBot(app, server).start()
    try:
        await server.wait_for(lambda s: s.calls("getUpdates"))
        with pytest.raises(PollingConflict, match="already polling"):
            await asyncio.wait_for(run(app.settings, app.channel_deps(), asyncio.Event()), 30)
    finally:
        await first.stop()


async def test_a_409_from_telegram_stops_polling_loudly(app: App, server: FakeTelegramServer) -> None:
    configure(app, server)
    server.fail_next("getUpdates", 409)
    with pytest.raises(PollingConflict, match="Conflict"):
        await asyncio.wait_for(run(app.settings, app.channel_deps(), asyncio.Event()), 30)
