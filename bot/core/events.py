"""What a channel adapter hands to the core: one user action, in the core's own words."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EventKind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class ChannelAddress:
    """Where an event came from and where replies go. All ids are strings on every channel."""

    channel: str  # "telegram" | "zalo" | "console"
    chat_id: str
    user_id: str
    chat_type: str = "private"  # "private" | "group"

    @property
    def account_key(self) -> tuple[str, str]:
        return (self.channel, self.user_id)


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """A text message, a command (`/start CODE`) or a tap on a choice (an opaque token)."""

    address: ChannelAddress
    kind: EventKind
    text: str = ""
    command: str = ""  # lower case, without the slash
    args: str = ""  # what follows the command, e.g. a deep-link payload
    token: str = ""  # for CHOICE: the opaque token of the tapped option
    locale_hint: str | None = None  # the platform's language code, used only for a brand-new user

    @classmethod
    def text_message(cls, address: ChannelAddress, text: str, locale_hint: str | None = None) -> IncomingEvent:
        """Build a TEXT or COMMAND event from what the user typed."""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, rest = stripped[1:].partition(" ")
            command = head.split("@", 1)[0].lower()
            return cls(
                address,
                EventKind.COMMAND,
                text=stripped,
                command=command,
                args=rest.strip(),
                locale_hint=locale_hint,
            )
        return cls(address, EventKind.TEXT, text=text, locale_hint=locale_hint)

    @classmethod
    def choice(cls, address: ChannelAddress, token: str, locale_hint: str | None = None) -> IncomingEvent:
        return cls(address, EventKind.CHOICE, token=token, locale_hint=locale_hint)
