"""Replies out to Telegram: answer the tap first, edit in place where the core asks for it, send the rest in
order through the rate limiter; a user who blocked the bot is marked unreachable. Broadcasts use `deliver`."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup, EditMessageText, SendMessage
from aiogram.types import BufferedInputFile

from bot.channels.telegram.calls import BotApiCalls
from bot.channels.telegram.mapping import CHANNEL, TelegramEvent
from bot.channels.telegram.ratelimit import RateLimiter
from bot.channels.telegram.render import CAPTION_LIMIT, keyboard, message_text, split_text
from bot.core.delivery import DeliveryResult, DeliveryStatus
from bot.core.events import ChannelAddress, IncomingEvent
from bot.core.ports import UnitOfWorkFactory
from bot.core.replies import Reply

log = logging.getLogger(__name__)

SENT = DeliveryResult(DeliveryStatus.SENT)


class DeliveryRetry(RuntimeError):
    """Raised to the inbox worker so it sends the stored replies again later (429 that did not pass, 5xx)."""


class TelegramTransport:
    channel = CHANNEL

    def __init__(self, bot: Bot, limiter: RateLimiter, uow_factory: UnitOfWorkFactory) -> None:
        self.bot, self.limiter, self.uow_factory = bot, limiter, uow_factory
        self.call = BotApiCalls(bot)  # the text calls as JSON; files go through aiogram's own methods
        self._deadlines: dict[str, asyncio.TimerHandle] = {}
        self._late: set[asyncio.Task[None]] = set()

    def expect_answer(self, callback_id: str, within: float) -> None:
        """A tap was stored. Its answer normally carries the core's toast; if the inbox is so busy that it is not
        sent within `within` seconds, answer it empty so the button stops spinning before Telegram gives up."""
        loop = asyncio.get_running_loop()
        self._deadlines[callback_id] = loop.call_later(within, self._answer_late, callback_id)

    def _answer_late(self, callback_id: str) -> None:
        self._deadlines.pop(callback_id, None)
        task = asyncio.get_running_loop().create_task(self.answer_callback(callback_id))
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    # --- the Transport protocol (broadcasts, notices) ---------------------------------------------------------
    async def deliver(self, address: ChannelAddress, replies: list[Reply]) -> DeliveryResult:
        for reply in replies:
            target = reply.to or address
            result = await self._send(target, reply, bulk=True)
            if result.status is not DeliveryStatus.SENT:
                if result.status is DeliveryStatus.BLOCKED:
                    await self.mark_unreachable(target)
                return result
        return SENT

    # --- replies to an incoming event (the inbox worker's sender) ---------------------------------------------
    async def reply(self, event: IncomingEvent, replies: list[Reply]) -> None:
        tapped = event if isinstance(event, TelegramEvent) and event.callback_id else None
        if tapped is not None:
            pending = self._deadlines.pop(tapped.callback_id, None)
            if pending is not None:
                pending.cancel()
            toast = next((r.toast for r in replies if r.toast), "")
            await self.answer_callback(tapped.callback_id, toast)  # before any other call for this update
        # A toast-only answer (e.g. the flood limit's notice) shows nothing else and leaves the keyboard alone.
        replies = [r for r in replies if r.text.strip() or r.attachments or r.prompt is not None or r.to is not None]
        edit_id = tapped.message_id if tapped is not None else None
        for reply in replies:
            target = reply.to or event.address
            own_chat = reply.to is None
            # Only the answer in the user's own chat is exempt from the overall limit; a message the action
            # sends to someone else (a teacher, a class group) counts like any bulk send.
            bulk = not own_chat
            if own_chat and edit_id is not None and reply.replace_previous:
                result = await self._send(target, reply, edit_message_id=edit_id, bulk=False)
                edit_id = None
            else:
                if own_chat and edit_id is not None:
                    # The tapped keyboard is spent: take it away so old buttons are not tapped again.
                    await self._drop_keyboard(target, edit_id)
                    edit_id = None
                result = await self._send(target, reply, bulk=bulk)
            if result.status is DeliveryStatus.BLOCKED:
                await self.mark_unreachable(target)
                if own_chat:
                    return
            elif result.status is DeliveryStatus.RETRY:
                raise DeliveryRetry(result.error or "retry")
        if edit_id is not None and replies:
            await self._drop_keyboard(event.address, edit_id)

    async def answer_callback(self, callback_id: str, text: str = "") -> None:
        """Stops the button's spinner. A query older than Telegram's window is harmless: the reply still goes."""
        try:
            await self.call(
                AnswerCallbackQuery, {"callback_query_id": callback_id, **({"text": text[:200]} if text else {})}
            )
        except TelegramAPIError as exc:
            log.debug("callback answer not accepted: %s", exc.message)

    async def mark_unreachable(self, address: ChannelAddress) -> None:
        if address.chat_type != "private":
            return
        async with self.uow_factory() as uow:
            await uow.users.set_reachable(address.channel, address.user_id, False)
            await uow.commit()
        log.info("a Telegram user blocked the bot; marked unreachable until they write again")

    # --- the calls -------------------------------------------------------------------------------------------
    async def _drop_keyboard(self, address: ChannelAddress, message_id: int) -> None:
        group = address.chat_type != "private"
        await self.limiter.call(
            lambda: self.call(EditMessageReplyMarkup, {"chat_id": address.chat_id, "message_id": message_id}),
            address.chat_id,
            group,
            bulk=False,  # only ever in the chat of the user who tapped
        )

    async def _send(
        self, address: ChannelAddress, reply: Reply, edit_message_id: int | None = None, *, bulk: bool
    ) -> DeliveryResult:
        chat_id, group = address.chat_id, address.chat_type != "private"
        markup = keyboard(reply.prompt, private=not group)
        text = message_text(reply)
        chunks = split_text(text) if text.strip() else []
        no_preview: dict[str, Any] = {} if reply.link_preview else {"link_preview_options": {"is_disabled": True}}
        if edit_message_id is not None and len(chunks) == 1 and not reply.attachments:
            edit = {"chat_id": chat_id, "message_id": edit_message_id, "text": chunks[0], **no_preview}
            if markup is not None:
                edit["reply_markup"] = markup
            result, _msg = await self.limiter.call(
                lambda: self.call(EditMessageText, edit),
                chat_id,
                group,
                bulk=bulk,
            )
            if result.status is not DeliveryStatus.FAILED:  # e.g. too old to edit: send it as a new message
                return result
        if edit_message_id is not None:  # sent as new messages instead: the old buttons are spent
            await self._drop_keyboard(address, edit_message_id)
        for i, chunk in enumerate(chunks):
            send: dict[str, Any] = {"chat_id": chat_id, "text": chunk, **no_preview}
            if markup is not None and i == len(chunks) - 1:
                send["reply_markup"] = markup
            result, _msg = await self.limiter.call(partial(self.call, SendMessage, send), chat_id, group, bulk=bulk)
            if result.status is not DeliveryStatus.SENT:
                return result
        for attachment in reply.attachments:
            document = partial(
                self.bot.send_document,
                chat_id=chat_id,
                document=BufferedInputFile(attachment.content, filename=attachment.filename),
                caption=attachment.caption[:CAPTION_LIMIT] or None,
            )
            result, _msg = await self.limiter.call(document, chat_id, group, bulk=bulk)
            if result.status is not DeliveryStatus.SENT:
                return result
        return SENT
