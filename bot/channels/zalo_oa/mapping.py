"""Zalo OA webhook events → core events: text and commands, button taps (the payload comes back as the user's
text), follow as a start; the OA's own echoes dropped; other media answered kindly."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bot.core.events import ChannelAddress, EventKind, IncomingEvent

CHANNEL = "zalo_oa"
# A button's payload is the option's opaque token behind this mark, so a tap is told apart from typed text
# (a user typing it by hand only picks an option the core offered them anyway).
CHOICE_PREFIX = "#c:"
TEXT_EVENTS = frozenset({"user_send_text", "user_click_button"})  # the second one is unconfirmed (§2.3)
FOLLOW, UNFOLLOW = "follow", "unfollow"
NON_TEXT_COMMAND = "media.unsupported"  # what the Zalo Bot channel sends for photos and stickers too


@dataclass(frozen=True, slots=True)
class OAEvent(IncomingEvent):
    """A core event plus what the reply needs: the inbound message to quote (a reply, not a paid push)."""

    msg_id: str = ""


def event_name(update: dict[str, Any]) -> str:
    name = update.get("event_name")
    return name if isinstance(name, str) else ""


def _message(update: dict[str, Any]) -> dict[str, Any]:
    message = update.get("message")
    return message if isinstance(message, dict) else {}


def _id(value: Any) -> str:
    return str(value.get("id") or "") if isinstance(value, dict) else ""


def user_id(update: dict[str, Any]) -> str:
    """The OA user: the sender of a message, or the follower of a follow/unfollow event."""
    name = event_name(update)
    if name in (FOLLOW, UNFOLLOW):
        return _id(update.get("follower"))
    return _id(update.get("sender"))


def is_echo(update: dict[str, Any], oa_id: str) -> bool:
    """What the OA sent itself comes back through the same webhook: never answered."""
    name = event_name(update)
    return name.startswith("oa_send_") or bool(oa_id and _id(update.get("sender")) == oa_id)


def event_key(update: dict[str, Any]) -> str | None:
    """The de-duplication key: the message id, or for follow/unfollow the follower and the event time."""
    name = event_name(update)
    if not name:
        return None
    msg_id = _message(update).get("msg_id")
    if isinstance(msg_id, str | int) and str(msg_id):
        return f"m:{msg_id}"
    who, at = user_id(update), update.get("timestamp")
    if who and isinstance(at, str | int):
        return f"{name}:{who}:{at}"
    return None


def timestamp_ms(update: dict[str, Any]) -> int | None:
    try:
        return int(str(update.get("timestamp")))
    except ValueError:
        return None


def _with_msg(event: IncomingEvent, msg_id: str) -> OAEvent:
    base = {f.name: getattr(event, f.name) for f in dataclasses.fields(IncomingEvent)}
    return OAEvent(**base, msg_id=msg_id)


def parse_update(update: dict[str, Any], oa_id: str) -> IncomingEvent | None:
    """The core event for an update, or None for what the bot does not answer (echoes, unfollow, malformed)."""
    if not isinstance(update, dict) or is_echo(update, oa_id):
        return None
    who = user_id(update)
    name = event_name(update)
    if not who or name == UNFOLLOW:
        return None
    addr = ChannelAddress(CHANNEL, who, who, "private")
    if name == FOLLOW:  # following the OA is the user's "start"
        return _with_msg(IncomingEvent.text_message(addr, "/start"), "")
    message = _message(update)
    msg_id = str(message.get("msg_id") or "")
    if name in TEXT_EVENTS:
        raw = message.get("text", message.get("payload"))
        text = raw if isinstance(raw, str) else ""
        stripped = text.strip()
        if stripped.startswith(CHOICE_PREFIX) and len(stripped) > len(CHOICE_PREFIX):
            return _with_msg(IncomingEvent.choice(addr, stripped[len(CHOICE_PREFIX) :]), msg_id)
        return _with_msg(IncomingEvent.text_message(addr, text), msg_id)
    if name.startswith("user_send_"):
        return _with_msg(IncomingEvent(addr, EventKind.COMMAND, command=NON_TEXT_COMMAND), msg_id)
    return None
