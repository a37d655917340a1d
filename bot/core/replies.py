"""What the core hands back to a channel adapter: text, an optional choice prompt, attachments."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.events import ChannelAddress


@dataclass(frozen=True, slots=True)
class Choice:
    token: str  # opaque, short (fits Telegram's 64-byte callback data); never the answer itself
    label: str


@dataclass(frozen=True, slots=True)
class ChoicePrompt:
    """Options the user picks one of: buttons on Telegram, numbered lines typed back elsewhere."""

    options: tuple[Choice, ...]
    columns: int = 1
    # Letters (A, B, C, D) for quiz answers; numbers for menus.
    lettered: bool = False


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    prompt: ChoicePrompt | None = None
    attachments: tuple[Attachment, ...] = ()
    # A hint that this reply replaces the message of the prompt just answered (Telegram edits in place).
    replace_previous: bool = False
    # Set when the reply goes to someone other than the sender (broadcasts, notices).
    to: ChannelAddress | None = None
    # A short notice for the tap itself (Telegram callback toast); other channels ignore it.
    toast: str = ""

    @property
    def choice_labels(self) -> list[str]:
        return [c.label for c in self.prompt.options] if self.prompt else []


@dataclass(slots=True)
class Outbox:
    """Replies collected while handling one event, in order."""

    replies: list[Reply] = field(default_factory=list)

    def say(self, text: str, prompt: ChoicePrompt | None = None, **kwargs: object) -> None:
        self.replies.append(Reply(text=text, prompt=prompt, **kwargs))  # type: ignore[arg-type]
