"""Zalo updates → core events: text and commands, self-echo dropped, non-text messages answered kindly."""

from __future__ import annotations

from typing import Any

from bot.core.events import ChannelAddress, EventKind, IncomingEvent

CHANNEL = "zalo"
TEXT_EVENT = "message.text.received"
# Photos, stickers, voice...: the core answers that only text can be read (see core/flows/media.py).
NON_TEXT_COMMAND = "media.unsupported"


def unwrap(body: Any) -> list[dict[str, Any]]:
    """Webhooks carry the bare update; accept the `{ok, result}` form (and a list) too."""
    if isinstance(body, dict) and "result" in body and "message" not in body:
        body = body["result"]
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list):
        return [u for u in body if isinstance(u, dict)]
    return []


def _message(update: dict[str, Any]) -> dict[str, Any] | None:
    message = update.get("message")
    return message if isinstance(message, dict) else None


def event_name(update: dict[str, Any]) -> str:
    name = update.get("event_name")
    if isinstance(name, str) and name:
        return name
    # Some documented samples leave `event_name` out: a message with text is a text message.
    message = _message(update) or {}
    return TEXT_EVENT if isinstance(message.get("text"), str) and message["text"] else "message.unsupported.received"


def external_id(update: dict[str, Any]) -> str | None:
    """The inbox key: `event_name:message_id` (Zalo updates have no update id)."""
    message = _message(update)
    if message is None or not message.get("message_id"):
        return None
    return f"{event_name(update)}:{message['message_id']}"[:128]


def _sender(message: dict[str, Any]) -> dict[str, Any]:
    sender = message.get("from")
    return sender if isinstance(sender, dict) else {}


def is_self_echo(update: dict[str, Any], bot_id: str) -> bool:
    """Zalo hands the bot its own messages back; answering them would make the bot talk to itself."""
    message = _message(update)
    if message is None:
        return False
    sender = _sender(message)
    return str(sender.get("id", "")) == bot_id or sender.get("is_bot") is True


def address(update: dict[str, Any]) -> ChannelAddress | None:
    message = _message(update)
    if message is None:
        return None
    raw_chat = message.get("chat")
    chat: dict[str, Any] = raw_chat if isinstance(raw_chat, dict) else {}
    user_id = str(_sender(message).get("id") or "")
    chat_id = str(chat.get("id") or user_id)  # in a private chat the chat id is the user id
    if not user_id or not chat_id:
        return None
    chat_type = "group" if str(chat.get("chat_type", "")).upper() == "GROUP" else "private"
    return ChannelAddress(CHANNEL, chat_id, user_id, chat_type)


def parse_update(update: dict[str, Any], bot_id: str) -> IncomingEvent | None:
    """The core event for an update, or None for what the bot ignores (its own echoes, malformed updates).

    The sender's name (`display_name`, `first_name` or `name`) is not read: the bot asks for it itself."""
    if is_self_echo(update, bot_id):
        return None
    addr = address(update)
    if addr is None:
        return None
    message = _message(update) or {}
    text = message.get("text")
    if event_name(update) == TEXT_EVENT and isinstance(text, str):
        return IncomingEvent.text_message(addr, text)
    return IncomingEvent(addr, EventKind.COMMAND, command=NON_TEXT_COMMAND)
