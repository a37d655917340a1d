"""Telegram updates (raw JSON as stored in the inbox) to core events: messages, commands, button taps."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram.types import Update
from pydantic import ValidationError

from bot.core.events import ChannelAddress, IncomingEvent

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# Only what the bot acts on; everything else is never requested (allowed_updates).
ALLOWED_UPDATES = ["message", "callback_query"]


@dataclass(frozen=True, slots=True)
class TelegramEvent(IncomingEvent):
    """A core event plus what the reply needs to answer the tap: the callback query and its message."""

    callback_id: str = ""
    message_id: int | None = None  # the message that carried the tapped keyboard


def _with_extras(event: IncomingEvent, **extras: Any) -> TelegramEvent:
    base = {f.name: getattr(event, f.name) for f in dataclasses.fields(IncomingEvent)}
    return TelegramEvent(**base, **extras)


def make_parser(bot_username: str | None) -> Callable[[dict[str, Any]], IncomingEvent | None]:
    """The inbox's parser for this bot (commands addressed to another bot in a group are ignored)."""

    def parse(payload: dict[str, Any]) -> IncomingEvent | None:
        return parse_update(payload, bot_username)

    return parse


def parse_update(payload: dict[str, Any], bot_username: str | None = None) -> IncomingEvent | None:
    """None for updates the bot does not act on (edits, other bots, group chatter, malformed data)."""
    if not isinstance(payload, dict):
        log.warning("malformed Telegram update (not a JSON object) ignored")
        return None
    try:
        update = Update.model_validate(payload)
    except ValidationError:
        # Only the id is logged, and only when it is one: a malformed body may carry anything, names included.
        update_id = payload.get("update_id")
        log.warning("malformed Telegram update %s ignored", update_id if type(update_id) is int else "?")
        return None
    if update.message is not None:
        msg = update.message
        user = msg.from_user
        if user is None or user.is_bot:
            return None
        chat_type = "private" if msg.chat.type == "private" else "group"
        addr = ChannelAddress(CHANNEL, str(msg.chat.id), str(user.id), chat_type)
        text = msg.text if msg.text is not None else (msg.caption or "")
        if chat_type == "group":
            # With privacy mode on, a group only sends us commands; anything else is chatter between people.
            head = text.split(maxsplit=1)[0] if text.strip() else ""
            if not head.startswith("/"):
                return None
            _cmd, at, target = head.partition("@")
            if at and bot_username and target.lower() != bot_username.lower():
                return None
        # A sticker or photo without text becomes empty text: the core answers it kindly.
        return _with_extras(IncomingEvent.text_message(addr, text, user.language_code))
    if update.callback_query is not None:
        cq = update.callback_query
        if not cq.data:
            return None
        message = cq.message
        chat_id = message.chat.id if message is not None else cq.from_user.id
        chat_type = "private" if message is None or message.chat.type == "private" else "group"
        addr = ChannelAddress(CHANNEL, str(chat_id), str(cq.from_user.id), chat_type)
        return _with_extras(
            IncomingEvent.choice(addr, cq.data, cq.from_user.language_code),
            callback_id=cq.id,
            message_id=message.message_id if message is not None else None,
        )
    return None
