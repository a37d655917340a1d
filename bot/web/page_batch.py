"""The contest page's answers stored in groups: the answers that arrive while a transaction runs are stored
together in the next one (one BEGIN and one COMMIT for up to `GROUP_MAX`), as the chat's inbox does with updates
(`InboxWorker._handle_in_group`).

Each member is the same `contest_page.answer` as alone, in arrival order, in one session settled between members,
with the clock read when its request arrived; so the first-answer rule, the deadline and the logged refusals are
what storing it alone gives. Every member's reply waits for the group's commit, so "saved" still means durable. A
group whose transaction fails is stored again one answer at a time, so an error is only its own answer's. A quiet
page stores each answer at once, alone; a busy one gathers the answers that come in meanwhile, so the busier it
is, the fewer commits per answer."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.content.loader import Content
from bot.web import contest_page as cp

log = logging.getLogger(__name__)

GROUP_MAX = 64


@dataclass(frozen=True, slots=True)
class Answer:
    user_id: int
    round_id: int
    attempt_id: int
    seq: int
    pos: int
    key: str
    now: dt.datetime  # when the request arrived: the deadline is checked against it


Store = Callable[[Any, Content, Answer], Awaitable[cp.Ack]]


async def store_one(uow: Any, content: Content, a: Answer) -> cp.Ack:
    return await cp.answer(uow, content, a.user_id, a.round_id, a.attempt_id, a.seq, a.pos, a.key, a.now)


@dataclass
class AnswerGroups:
    uow_factory: Callable[[], Any]
    content: Content
    # Transactions storing groups at once: SQLite has one writer, so 1; PostgreSQL 2 (as the inbox).
    writers: int = 1
    store: Store = store_one
    groups: int = 0  # groups committed (for the tests and the benchmark)
    _waiting: list[tuple[Answer, asyncio.Future[cp.Ack]]] = field(default_factory=list)
    _running: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def answer(self, a: Answer) -> cp.Ack:
        """The answer's acknowledgement once its group has committed (or its refusal, raised)."""
        future: asyncio.Future[cp.Ack] = asyncio.get_running_loop().create_future()
        self._waiting.append((a, future))
        if self._running < self.writers:
            self._running += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # A request whose client went away still has its answer stored (its key makes the retry "saved").
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(0)  # one turn of the loop: the requests read meanwhile join this group
                group, self._waiting = self._waiting[:GROUP_MAX], self._waiting[GROUP_MAX:]
                if group:
                    await self._store(group)
        finally:
            self._running -= 1

    async def _store(self, group: list[tuple[Answer, asyncio.Future[cp.Ack]]]) -> None:
        outcomes: list[cp.Ack | cp.PageRefusal] = []
        try:
            async with self.uow_factory() as uow:
                for a, _f in group:
                    try:
                        outcomes.append(await self.store(uow, self.content, a))
                    except cp.PageRefusal as refusal:  # refused before anything is written
                        outcomes.append(refusal)
                    await uow.settle()
                await uow.commit()
        except Exception as exc:
            if len(group) == 1:
                _, future = group[0]
                if not future.done():
                    future.set_exception(exc)
                return
            log.warning("a group of %d answers failed (%s); each is stored alone", len(group), type(exc).__name__)
            for member in group:
                await self._store([member])
            return
        except BaseException:  # cancelled (shutdown): nothing of the group was committed
            for _a, future in group:
                future.cancel()
            raise
        self.groups += 1
        for (_a, future), outcome in zip(group, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, cp.PageRefusal):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
