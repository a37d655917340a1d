"""The "/" command menus: students' in Vietnamese (default) and English for all private chats, the group menu
for group chats, and each staff member's own menu in their private chat (set at start and every few minutes,
so someone who became a teacher gets theirs without a restart)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)

from bot.channels.telegram.mapping import CHANNEL
from bot.core.ports import UnitOfWork

log = logging.getLogger(__name__)

REFRESH_SECONDS = 300.0


class CommandMenus:
    def __init__(
        self,
        bot: Bot,
        uow_factory: Callable[[], UnitOfWork],
        command_menu: Callable[[str, str], list[tuple[str, str]]],
    ) -> None:
        """`command_menu(role, locale)`: the commands and their descriptions for a role ("group" in groups)."""
        self.bot, self.uow_factory, self.command_menu = bot, uow_factory, command_menu
        self._staff_done: set[tuple[str, str, str]] = set()

    def _commands(self, role: str, locale: str) -> list[BotCommand]:
        return [BotCommand(command=c, description=d) for c, d in self.command_menu(role, locale)]

    async def publish(self) -> None:
        try:
            for language_code, locale in ((None, "vi"), ("en", "en")):
                students = self._commands("student", locale)
                await self.bot.set_my_commands(students, BotCommandScopeDefault(), language_code)
                await self.bot.set_my_commands(students, BotCommandScopeAllPrivateChats(), language_code)
                await self.bot.set_my_commands(
                    self._commands("group", locale), BotCommandScopeAllGroupChats(), language_code
                )
        except TelegramAPIError as exc:
            log.warning("command menus not set: %s", exc.message)
        await self.refresh_staff()

    async def refresh_staff(self) -> None:
        async with self.uow_factory() as uow:
            staff = await uow.users.staff_accounts(CHANNEL)
        for user_id, role, locale in staff:
            key = (user_id, role, locale)
            if key in self._staff_done or not user_id.lstrip("-").isdigit():
                continue
            try:
                await self.bot.set_my_commands(self._commands(role, locale), BotCommandScopeChat(chat_id=int(user_id)))
            except TelegramAPIError as exc:
                log.warning("staff command menu not set: %s", exc.message)
                return  # try the rest at the next refresh
            self._staff_done.add(key)
