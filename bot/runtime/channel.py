"""What a platform channel receives from the composition root besides its settings."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from bot.core.clock import Clock
from bot.core.dispatcher import Dispatcher
from bot.core.i18n import I18n
from bot.core.sendlimit import SendLimits
from bot.runtime.ports import RuntimeUnitOfWork


class AlreadyRunning(RuntimeError):
    """Another process holds the lock (`ChannelDeps.single_instance`)."""


@dataclass(frozen=True)
class ChannelDeps:
    dispatcher: Dispatcher
    uow_factory: Callable[[], RuntimeUnitOfWork]
    clock: Clock
    i18n: I18n
    # A lock only one process holds at a time, by name (long polling allows one poller per bot).
    single_instance: Callable[[str], AbstractAsyncContextManager[None]]
    # Transactions that handle groups of updates at once (1 on SQLite, 2 on PostgreSQL: see InboxWorker).
    group_concurrency: int = 1
    # (role, locale) -> [(command, description)]: the "/" menus a platform shows, by role.
    command_menu: Callable[[str, str], list[tuple[str, str]]] = lambda _role, _locale: []
    # One outgoing limit per bot shared by every process (REDIS_URL); None: each process keeps its own pace.
    send_limits: SendLimits | None = None
