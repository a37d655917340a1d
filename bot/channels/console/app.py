"""The console channel: one terminal, several demo users; choices are numbered and typed back."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Collection
from typing import TextIO

from bot.channels.console.transport import CHANNEL, ConsoleOutput, Outbox, attachment_line
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChannelAddress, IncomingEvent
from bot.core.replies import Reply
from bot.core.text import LETTERS

log = logging.getLogger(__name__)
USER_HELP = (
    "Đổi người dùng: /as hs (học sinh), /as hs2 (học sinh khác), /as gv (giáo viên), "
    "/as qt (quản trị trường), /as btc (ban tổ chức). Thoát: /quit"
)


def render(reply: Reply, outbox: Outbox | None = None) -> str:
    lines = [reply.text]
    if reply.prompt:
        for i, choice in enumerate(reply.prompt.options):
            mark = LETTERS[i] if reply.prompt.lettered else str(i + 1)
            lines.append(f"  {mark}. {choice.label}")
    for attachment in reply.attachments:
        lines.append(attachment_line(attachment.filename, attachment.content, outbox))
    return "\n".join(lines)


def switch_to(line: str, bot_commands: Collection[str] = ()) -> str | None:
    """The demo user a console line switches to ("/as gv" -> "gv", "/as" alone -> "hs"), or None when the line
    is for the bot. Only "/as" followed by a space (or nothing) switches: "/assigned" is the bot's command, and a
    command the bot itself registers as "as" would take precedence over the console's."""
    words = line.split(maxsplit=1)
    if not words or words[0] != "/as" or "as" in bot_commands:
        return None
    return words[1].strip() if len(words) > 1 else "hs"


class ConsoleSession:
    """Drives the core as one or more console users; used by `python -m bot run` and by the tests.

    With an `output` (shared by the sessions of one terminal), the sender runs after each line, what the bot
    sent by itself to the current user is shown by `waiting()` (the terminal shows it before each prompt, so
    its options are the ones typed back), and files are written to the outbox."""

    def __init__(self, dispatcher: Dispatcher, user: str = "hs", output: ConsoleOutput | None = None) -> None:
        self.dispatcher = dispatcher
        self.user = user
        self.output = output
        self.attachments: list[tuple[str, bytes]] = []

    def address(self) -> ChannelAddress:
        return ChannelAddress(CHANNEL, self.user, self.user)

    async def send(self, text: str) -> str:
        """Type one line as the current user; returns what the bot prints."""
        replies = await self.dispatcher.handle_safely(IncomingEvent.text_message(self.address(), text))
        if self.output is not None and self.output.deliver is not None:
            try:
                await self.output.deliver()
            except Exception:  # the chat goes on; what was not delivered is tried after the next line
                log.exception("console delivery failed")
        return self._show([*replies, *self._arrived()])

    def waiting(self) -> str:
        """What was sent to the current user while the console was someone else ("" when nothing)."""
        return self._show(self._arrived())

    def _arrived(self) -> list[Reply]:
        return self.output.transport.take(self.user) if self.output is not None else []

    def _show(self, replies: list[Reply]) -> str:
        outbox = self.output.outbox if self.output is not None else None
        for reply in replies:
            self.attachments += [(a.filename, a.content) for a in reply.attachments]
        return "\n\n".join(render(r, outbox) for r in replies)


async def run_console(
    dispatcher: Dispatcher,
    banner: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    readline: Callable[[], str] | None = None,
    output: ConsoleOutput | None = None,
) -> None:
    session = ConsoleSession(dispatcher, output=output)
    print(banner, file=stdout, flush=True)
    read = readline or stdin.readline
    loop = asyncio.get_running_loop()
    while True:
        if waiting := session.waiting():  # sent to this user while the console was someone else
            print(waiting, file=stdout, flush=True)
        print(f"\n[{session.user}] > ", end="", file=stdout, flush=True)
        line = await loop.run_in_executor(None, read)
        if line == "":  # end of input
            print("", file=stdout)
            return
        line = line.rstrip("\n")
        if line.strip() in ("/quit", "/exit"):
            return
        who = switch_to(line, dispatcher.router.commands)
        if who is not None:
            session.user = who
            print(f"(Bây giờ em là: {who})", file=stdout, flush=True)
            continue
        print(await session.send(line), file=stdout, flush=True)
