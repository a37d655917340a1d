"""Work the console starts and does not wait for (the overview's newer figures): tasks kept until they end,
waited for a moment and then cancelled when the application stops; and the loop that keeps the figures people
look at fresh. Each task's work is in the database, so a task lost with its process is only done again later."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.reports import snapshots
from bot.web.render import DEPS

log = logging.getLogger(__name__)

KEEP_FRESH_EVERY = 300.0  # seconds between two rounds of computing the figures someone looked at


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

        self._keyed: dict[str, asyncio.Future[Any]] = {}

    def spawn(self, work: Awaitable[Any]) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def once(self, key: str, make: Callable[[], Awaitable[Any]]) -> asyncio.Future[Any]:
        """The task running for `key`, or a new one from `make` (a page asked again while it counts)."""
        running = self._keyed.get(key)
        if running is None or running.done():
            running = self._keyed[key] = self.spawn(make())
            running.add_done_callback(lambda _t: self._keyed.pop(key, None))
        return running

    async def idle(self) -> None:
        """Until every task started so far has ended (tests, and a graceful stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self, grace: float = 5.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle(), grace)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)


BACKGROUND = web.AppKey("background", Background)


async def keep_fresh_loop(app: web.Application, every: float = KEEP_FRESH_EVERY) -> None:
    deps = app[DEPS]
    while True:
        await asyncio.sleep(every)
        try:
            await snapshots.keep_fresh(deps.reader, deps.uow_factory, deps.clock())
        except Exception:
            log.exception("keeping the overview's figures fresh failed")


async def background_ctx(app: web.Application) -> AsyncIterator[None]:
    app[BACKGROUND] = background = Background()
    loop = asyncio.ensure_future(keep_fresh_loop(app))
    yield
    loop.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loop
    await background.stop()
