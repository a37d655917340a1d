"""The console's outgoing side: what the bot sends by itself (broadcasts, reminders, notices) waits for its
console user and counts as delivered, and every file the bot sends is written to the outbox folder."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.delivery import DeliveryResult, DeliveryStatus
from bot.core.events import ChannelAddress
from bot.core.replies import Reply

CHANNEL = "console"


class Outbox:
    """A folder for the files the bot sends on the console (results workbooks, certificates, reports, rosters).
    A file never overwrites another one: a second file of the same name gets "-2", "-3" ... before its suffix."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, filename: str, content: bytes) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        # Only a plain name from the bot, never a path: nothing is written outside the folder.
        name = re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", Path(filename).name).strip(". ") or "tep"
        path = self.folder / name
        stem, suffix, n = path.stem, path.suffix, 1
        while path.exists() and path.read_bytes() != content:
            n += 1
            path = self.folder / f"{stem}-{n}{suffix}"
        path.write_bytes(content)
        return path


@dataclass
class ConsoleTransport:
    """The console cannot push a message to a user who is not at the keyboard: a message waits in its user's
    mailbox and is shown as soon as the console is that user. It is delivered once it is there."""

    channel: str = CHANNEL
    mailbox: dict[str, list[Reply]] = field(default_factory=dict)

    async def deliver(self, address: ChannelAddress, replies: list[Reply]) -> DeliveryResult:
        self.mailbox.setdefault(address.chat_id, []).extend(replies)
        return DeliveryResult(DeliveryStatus.SENT)

    def take(self, chat_id: str) -> list[Reply]:
        """The messages waiting for `chat_id`, in the order they came; they are shown once."""
        return self.mailbox.pop(chat_id, [])


@dataclass
class ConsoleOutput:
    """What one terminal shares between its console users: the transport the sender delivers through, the
    outbox for files (None: files are only named), and `deliver`, run after each typed line (the sender and the
    notices, so what a line sent is delivered before the next one)."""

    transport: ConsoleTransport = field(default_factory=ConsoleTransport)
    outbox: Outbox | None = None
    deliver: Callable[[], Awaitable[object]] | None = None


def attachment_line(filename: str, content: bytes, outbox: Outbox | None) -> str:
    """How the console shows a file: where it was written, or (no outbox) its name and size."""
    if outbox is None:
        return f"  📎 {filename} ({len(content)} bytes)"
    return f"  📎 {filename} – đã lưu vào {outbox.save(filename, content)}"
