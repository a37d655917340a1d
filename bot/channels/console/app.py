"""The console channel: one terminal, several demo users; choices are numbered and typed back."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Collection
from typing import TextIO

from bot.core.dispatcher import Dispatcher
from bot.core.events import ChannelAddress, IncomingEvent
from bot.core.replies import Reply
from bot.core.text import LETTERS

CHANNEL = "console"
USER_HELP = (
    "Đổi người dùng: /as hs (học sinh), /as hs2 (học sinh khác), /as gv (giáo viên), "
    "/as qt (quản trị trường), /as btc (ban tổ chức). Thoát: /quit"
)


def render(reply: Reply) -> str:
    lines = [reply.text]
    if reply.prompt:
        for i, choice in enumerate(reply.prompt.options):
            mark = LETTERS[i] if reply.prompt.lettered else str(i + 1)
            lines.append(f"  {mark}. {choice.label}")
    for attachment in reply.attachments:
        lines.append(f"  📎 {attachment.filename} ({len(attachment.content)} bytes)")
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
    """Drives the core as one or more console users; used by `python -m bot run` and by the tests."""

    def __init__(self, dispatcher: Dispatcher, user: str = "hs") -> None:
        self.dispatcher = dispatcher
        self.user = user
        self.attachments: list[tuple[str, bytes]] = []

    def address(self) -> ChannelAddress:
        return ChannelAddress(CHANNEL, self.user, self.user)

    async def send(self, text: str) -> str:
        """Type one line as the current user; returns what the bot prints."""
        replies = await self.dispatcher.handle_safely(IncomingEvent.text_message(self.address(), text))
        for reply in replies:
            self.attachments += [(a.filename, a.content) for a in reply.attachments]
        return "\n\n".join(render(r) for r in replies)


async def run_console(
    dispatcher: Dispatcher,
    banner: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    readline: Callable[[], str] | None = None,
) -> None:
    session = ConsoleSession(dispatcher)
    print(banner, file=stdout, flush=True)
    read = readline or stdin.readline
    loop = asyncio.get_running_loop()
    while True:
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
