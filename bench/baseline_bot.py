"""The baseline: a bare aiogram 3 bot answering callback queries (answerCallbackQuery + editMessageText with
the next question's four buttons), no database. Run: python bench/baseline_bot.py API_BASE [--webhook PORT]"""

from __future__ import annotations

import asyncio
import sys

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text=f"{c}", callback_data=f"a:{c}")] for c in "ABCD"]
)


async def main(api_base: str) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    bot = Bot("123456:BENCH", session=session)
    dp = Dispatcher()

    @dp.message(F.text)
    async def on_text(message: Message) -> None:
        await message.answer("Câu 1", reply_markup=KEYBOARD)

    @dp.callback_query()
    async def on_tap(query: CallbackQuery) -> None:
        await query.answer()
        await bot.edit_message_text(
            "Câu tiếp theo",
            chat_id=query.message.chat.id,  # type: ignore[union-attr]
            message_id=query.message.message_id,
            reply_markup=KEYBOARD,
        )  # type: ignore[union-attr]

    await dp.start_polling(bot, polling_timeout=1, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
