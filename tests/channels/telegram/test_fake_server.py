"""The fake Bot API answers aiogram the way Telegram does: updates, messages, limits and errors on demand."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from tests.fakes.telegram_server import FakeTelegramServer


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as srv:
        yield srv


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.url))
    b = Bot(server.token, session=session)
    try:
        yield b
    finally:
        await b.session.close()


async def test_updates_messages_and_recorded_calls(server: FakeTelegramServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "antt_test_bot"
    first = server.enqueue_update(server.message_update(42, "/start ABC"))
    server.enqueue_update(server.message_update(42, "xin chào"))
    updates = await bot.get_updates(offset=0, timeout=1)
    assert [u.update_id for u in updates] == [first["update_id"], first["update_id"] + 1]
    assert updates[0].message is not None and updates[0].message.text == "/start ABC"
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []
    assert server.pending_updates() == 0

    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="tok1")]])
    sent = await bot.send_message(42, "Câu 1", reply_markup=markup)
    call = server.calls("sendMessage")[0]
    assert call.chat_id == "42" and call.text == "Câu 1" and call.buttons[0]["callback_data"] == "tok1"
    await bot.edit_message_text("Câu 2", chat_id=42, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Câu 2", chat_id=42, message_id=sent.message_id)
    await bot.send_document(42, BufferedInputFile(b"a,b\n1,2\n", "kq.csv"), caption="Kết quả")
    assert server.calls("sendDocument")[0].files["document"] == b"a,b\n1,2\n"


async def test_limits_of_the_real_api(server: FakeTelegramServer, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(1, "x" * 4097)
    await bot.send_message(1, "x" * 4096)
    too_long = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="é" * 33)]])
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(1, "hi", reply_markup=too_long)


async def test_failures_on_demand(server: FakeTelegramServer, bot: Bot) -> None:
    server.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(1, "a")
    assert info.value.retry_after == 3
    await bot.send_message(1, "a")  # only the next one failed

    server.fail_next("sendMessage", 403, chat_id=7, times=None)
    await bot.send_message(8, "b")
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
            await bot.send_message(7, "b")
    server.clear_failures()
    await bot.send_message(7, "b")

    server.fail_next("answerCallbackQuery", 400, "Bad Request: query is too old and response timeout expired", nth=2)
    await bot.answer_callback_query("1")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("2")
    assert [c.status for c in server.calls("answerCallbackQuery")] == [200, 400]
