"""The durable inbox: every platform update is committed before it is acknowledged, handled at most once
(its state change and its replies are committed together), and its replies are sent after that commit.

A crash loses nothing: on start, updates still `pending` are handled and updates `handled` but not yet
`done` have their stored replies sent. An update that keeps failing goes to `dead` with a log line.

Group commits: updates arriving together (a getUpdates batch, concurrent webhook calls) are stored in one
transaction; the pending updates of different users that are ready at once are handled in one transaction
(group handling, `Dispatcher.handle_many`: each member's state change, `handled` mark and replies, all or none
committed; a member that needs its own rollback is set apart and handled alone); and sent
replies are marked `done` together: in the transaction of the next update handled, or, if
none starts within one turn of the loop, in one of their own. Neither waits on a timer: while one commit runs,
the next ones gather, so a quiet bot commits each at once and a busy one commits many per round trip. A crash
after a reply is sent and before its `done` is committed sends that reply again at start; that window is
one commit long (as it was with a commit per update), never a timer."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from bot.core.clock import Clock
from bot.core.dispatcher import Dispatcher
from bot.core.errors import APOLOGY
from bot.core.events import IncomingEvent
from bot.core.ports import UnitOfWork
from bot.core.replies import Reply, reply_from_dict, reply_to_dict
from bot.runtime.ports import RuntimeUnitOfWork

log = logging.getLogger(__name__)

Parser = Callable[[dict[str, Any]], IncomingEvent | None]
Sender = Callable[[IncomingEvent, list[Reply]], Awaitable[None]]


class SendLater(Exception):
    """The platform cannot take replies now for a reason that is not the update's and passes (no usable token
    yet, an outage the channel knows of): the replies are kept and sent again later, without counting a failed
    attempt, for as long as it lasts; so nothing the user did is lost to a dead letter."""


@dataclass
class _Job:
    inbox_id: int
    payload: dict[str, Any]
    status: str
    replies: list[dict[str, Any]] | None = None


class InboxWorker:
    """Stores updates (`submit`) and works them off (`run`), one user at a time, many users at once."""

    def __init__(
        self,
        uow_factory: Callable[[], RuntimeUnitOfWork],
        dispatcher: Dispatcher,
        clock: Clock,
        channel: str,
        bot_id: str,
        parse: Parser,
        send: Sender,
        *,
        concurrency: int = 32,
        max_attempts: int = 5,
        sweep_seconds: float = 30.0,
        retry_base_seconds: float = 1.0,
        sweep_min_age_seconds: float = 0.0,
        group_concurrency: int = 1,
        group_max: int = 64,
    ) -> None:
        """`group_concurrency`: transactions handling groups at once. SQLite has one writer connection, so 1; on
        PostgreSQL a second group gathers while one waits for the server (1, 2, 4 and 8 made 261, 304, 299 and
        228 answers/s in the webhook benchmark), so the composition root passes 2 there."""
        self.uow_factory, self.dispatcher, self.clock = uow_factory, dispatcher, clock
        self.channel, self.bot_id = channel, bot_id
        self.parse, self.send = parse, send
        self.max_attempts = max_attempts
        self.sweep_seconds = sweep_seconds
        self.retry_base_seconds = retry_base_seconds
        # With several processes on one inbox (webhook mode), a fresh row may be in another live process's hands:
        # sweeping it would send its replies twice. Only rows older than this are taken over.
        self.sweep_min_age_seconds = sweep_min_age_seconds
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._inflight: set[int] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_refs: dict[str, int] = {}
        self._sem = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._failures: dict[int, int] = {}
        self._to_store: list[tuple[str, dict[str, Any], asyncio.Future[int | None]]] = []
        self._storing: asyncio.Task[None] | None = None
        self._to_finish: list[int] = []
        self._finishing: asyncio.Task[None] | None = None
        self._to_handle: list[tuple[IncomingEvent, int, asyncio.Future[list[Reply] | Exception | None]]] = []
        self._handling = 0
        self._group_tasks: set[asyncio.Task[None]] = set()
        self.group_concurrency = group_concurrency
        self.group_max = group_max
        self.handled = 0
        self.groups = 0  # transactions that handled updates (fewer than `handled` when updates were grouped)
        self.started = asyncio.Event()  # set once the first sweep after start has queued what was left

    async def submit(self, external_id: str, payload: dict[str, Any]) -> bool:
        """Commit the update to the inbox. True when it is new; False for a duplicate (already stored).

        Returns only after the commit, so the caller may then acknowledge; concurrent calls share one commit."""
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._to_store.append((external_id, payload, future))
        if self._storing is None:
            self._storing = asyncio.create_task(self._store_gathered())
        return await future is not None

    async def submit_many(self, updates: list[tuple[str, dict[str, Any]]]) -> list[bool]:
        """Commit a batch of updates (a getUpdates answer) in one transaction; True for each new one."""
        if not updates:
            return []
        ids = await self._store(updates)
        return [i is not None for i in ids]

    async def _store(self, updates: list[tuple[str, dict[str, Any]]]) -> list[int | None]:
        now = self.clock()
        # Updates whose replies were sent meanwhile are marked done in this transaction too, as in `_handle`: when
        # updates arrive one or two at a time, that saves a transaction of their own for most of them.
        riding = self._take_finished()
        try:
            async with self.uow_factory() as uow:
                ids = [await uow.inbox.store(self.channel, self.bot_id, ext, payload, now) for ext, payload in updates]
                if riding:
                    await uow.inbox.mark_done_many(riding, now)
                await uow.commit()
        except BaseException:
            self._unfinished(riding)
            raise
        self._inflight.difference_update(riding)
        for inbox_id, (_ext, payload) in zip(ids, updates, strict=True):
            if inbox_id is not None:
                self._inflight.add(inbox_id)
                self._queue.put_nowait(_Job(inbox_id, payload, "pending"))
        return ids

    async def _store_gathered(self) -> None:
        try:
            while self._to_store:
                batch, self._to_store = self._to_store, []
                try:
                    ids = await self._store([(ext, payload) for ext, payload, _f in batch])
                except Exception as exc:
                    for *_rest, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (*_rest, future), inbox_id in zip(batch, ids, strict=True):
                    if not future.done():
                        future.set_result(inbox_id)
        finally:
            self._storing = None

    async def sweep(self) -> int:
        """Queue stored updates that are not finished and not in hand (after a restart, or a failure)."""
        async with self.uow_factory() as uow:
            before = None
            if self.sweep_min_age_seconds:
                before = self.clock() - dt.timedelta(seconds=self.sweep_min_age_seconds)
            rows = await uow.inbox.unfinished(self.channel, self.bot_id, received_before=before)
            jobs = [
                _Job(r.id, dict(r.payload), r.status, list(r.replies or [])) for r in rows if r.id not in self._inflight
            ]
        for job in jobs:
            self._inflight.add(job.inbox_id)
            self._queue.put_nowait(job)
        return len(jobs)

    async def run(self, stop: asyncio.Event, grace_seconds: float = 20.0) -> None:
        await self.sweep()
        self.started.set()
        last_sweep = time.monotonic()
        while not stop.is_set():
            try:
                job = await asyncio.wait_for(self._queue.get(), timeout=0.5)
            except TimeoutError:
                if time.monotonic() - last_sweep > self.sweep_seconds:
                    await self.sweep()
                    last_sweep = time.monotonic()
                continue
            await self._sem.acquire()
            self._start(job)
            # Start every update waiting (within the bound) in this turn of the loop, so they can be handled in
            # one group (see `_handle_in_group`).
            while not self._queue.empty() and not self._sem.locked():
                await self._sem.acquire()  # free: it does not wait
                self._start(self._queue.get_nowait())
        await self.drain(grace_seconds)

    def _start(self, job: _Job) -> None:
        task = asyncio.create_task(self._process(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, grace_seconds: float = 20.0) -> None:
        """Let work in hand finish (SIGTERM); what does not finish stays in the inbox for the next start."""
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
            for task in pending:
                task.cancel()
        if self._group_tasks:
            await asyncio.wait(set(self._group_tasks), timeout=grace_seconds)
        if self._finishing is not None:
            await asyncio.wait({self._finishing}, timeout=grace_seconds)

    async def idle(self) -> None:
        """Wait until everything queued so far is finished (used by tests and benchmarks)."""
        while self._inflight or not self._queue.empty() or self._to_finish:  # noqa: ASYNC110  (polling is fine here)
            await asyncio.sleep(0.01)

    async def _process(self, job: _Job) -> None:
        rescheduled = False
        try:
            try:
                event = self.parse(job.payload)
            except Exception:
                log.warning("inbox %s: unparseable %s update dropped", job.inbox_id, self.channel, exc_info=True)
                event = None
            if event is None:
                await self._finish(job.inbox_id)
                return
            key = f"{event.address.channel}:{event.address.user_id}"
            lock = self._locks.setdefault(key, asyncio.Lock())
            self._lock_refs[key] = self._lock_refs.get(key, 0) + 1
            try:
                async with lock:
                    rescheduled = await self._handle(job, event)
            finally:
                self._lock_refs[key] -= 1
                if not self._lock_refs[key]:
                    del self._lock_refs[key], self._locks[key]
        finally:
            # An update waiting for its `done` commit stays in hand, or a sweep would send its replies again.
            if not rescheduled and job.inbox_id not in self._to_finish:
                self._inflight.discard(job.inbox_id)
            self._sem.release()

    async def _handle(self, job: _Job, event: IncomingEvent) -> bool:
        """Returns True when the job was put back for a retry."""
        if job.status == "pending":
            handled = await self._handle_in_group(job.inbox_id, event)
            if isinstance(handled, Exception):
                return await self._failed(job, event, f"handle: {type(handled).__name__}", handled)
            if handled is None:  # another worker handled it first; it sends the replies
                return False
            replies = handled
            job.status = "handled"
            job.replies = None
        else:
            replies = [reply_from_dict(d) for d in job.replies or []]
        try:
            await self.send(event, replies)
        except Exception as exc:
            job.status = "handled"
            job.replies = [reply_to_dict(r) for r in replies]
            return await self._failed(job, event, f"send: {type(exc).__name__}", exc)
        await self._finish(job.inbox_id)
        self.handled += 1
        return False

    async def _handle_in_group(self, inbox_id: int, event: IncomingEvent) -> list[Reply] | Exception | None:
        """Handle a pending update together with the others ready now, in one transaction (group handling).

        The caller holds its user's lock, so a group never holds two updates of one user. A quiet bot handles
        each update at once, alone; a busy one gathers those that arrive while a group's transaction runs (up
        to `group_max`), so the busier it is, the fewer transactions per update. The replies of every member
        are committed with its state before any is sent, as when handled alone."""
        future: asyncio.Future[list[Reply] | Exception | None] = asyncio.get_running_loop().create_future()
        self._to_handle.append((event, inbox_id, future))
        if self._handling < self.group_concurrency:
            self._handling += 1
            task = asyncio.create_task(self._handle_gathered())
            self._group_tasks.add(task)
            task.add_done_callback(self._group_tasks.discard)
        return await future

    async def _handle_gathered(self) -> None:
        try:
            while self._to_handle:
                # One turn of the loop first: updates taken from the queue together join this group.
                await asyncio.sleep(0)
                group, self._to_handle = self._to_handle[: self.group_max], self._to_handle[self.group_max :]
                if not group:  # another runner took them meanwhile
                    break
                riding: list[int] = []

                async def mark_sent_done(uow: UnitOfWork, riding: list[int] = riding) -> None:
                    inbox = cast(RuntimeUnitOfWork, uow).inbox  # the unit of work our factory made
                    # Updates whose replies were sent meanwhile are marked done in this transaction, which saves a
                    # transaction of their own.
                    riding.extend(self._take_finished())
                    if riding:
                        await inbox.mark_done_many(riding, self.clock())

                try:
                    outcomes, committed = await self.dispatcher.handle_many(
                        [(event, inbox_id) for event, inbox_id, _f in group], with_commit=mark_sent_done
                    )
                except Exception as exc:  # not a member's failure (handle_many catches those): none is handled
                    self._unfinished(riding)
                    for *_rest, future in group:
                        if not future.done():
                            future.set_result(exc)  # each fails as its own error would: tried again later
                    continue
                except BaseException:  # cancelled (shutdown): what was not committed stays pending for the next start
                    self._unfinished(riding)
                    for *_rest, future in group + self._to_handle:
                        future.cancel()
                    self._to_handle = []
                    raise
                if committed:
                    self._inflight.difference_update(riding)
                else:
                    self._unfinished(riding)
                self.groups += 1
                for (*_rest, future), outcome in zip(group, outcomes, strict=True):
                    if not future.done():
                        future.set_result(outcome)
        finally:
            self._handling -= 1

    async def _finish(self, inbox_id: int) -> None:
        """Mark the update done with the others finished meanwhile (one commit); does not wait for it."""
        self._to_finish.append(inbox_id)
        if self._finishing is None:
            self._finishing = asyncio.create_task(self._finish_gathered())

    def _take_finished(self) -> list[int]:
        batch, self._to_finish = self._to_finish, []
        return batch

    def _unfinished(self, batch: list[int]) -> None:
        """Their `done` was not committed (the transaction that carried it rolled back): mark them again."""
        if batch:
            self._to_finish[:0] = batch
            if self._finishing is None:
                self._finishing = asyncio.create_task(self._finish_gathered())

    async def _finish_gathered(self) -> None:
        try:
            while self._to_finish:
                # One turn of the loop: an update being handled now may carry these in its own transaction.
                await asyncio.sleep(0)
                batch = self._take_finished()
                if not batch:
                    break
                try:
                    async with self.uow_factory() as uow:
                        await uow.inbox.mark_done_many(batch, self.clock())
                        await uow.commit()
                except Exception:
                    # Still `handled` in the database: a later sweep or the next start sends the replies again.
                    log.warning("inbox: could not mark %s updates done", len(batch), exc_info=True)
                    self._to_finish[:0] = batch
                    await asyncio.sleep(1.0)
                    continue
                self._inflight.difference_update(batch)
        finally:
            self._finishing = None

    async def _failed(self, job: _Job, event: IncomingEvent, what: str, exc: Exception) -> bool:
        n = self._failures[job.inbox_id] = self._failures.get(job.inbox_id, 0) + 1
        delay = min(self.retry_base_seconds * 2 ** (n - 1), 60.0)
        if isinstance(exc, SendLater):  # not the update's fault: kept (handled, replies stored), no attempt counted
            log.warning("inbox %s: %s cannot send now (%s); again in %.0f s", job.inbox_id, self.channel, exc, delay)
            asyncio.get_running_loop().call_later(delay, self._queue.put_nowait, job)
            return True
        async with self.uow_factory() as uow:
            status = await uow.inbox.fail(job.inbox_id, what, self.max_attempts, self.clock())
            await uow.commit()
        if status == "dead":
            log.error(
                "inbox %s: %s update moved to dead letters after %s attempts (%s)",
                job.inbox_id,
                self.channel,
                self.max_attempts,
                what,
                exc_info=exc,
            )
            if job.status == "pending":
                apology = self.dispatcher.i18n.gettext(None, APOLOGY)
                try:
                    await self.send(event, [Reply(text=apology)])
                except Exception:
                    log.warning("inbox %s: the apology could not be sent either", job.inbox_id)
            return False
        log.warning("inbox %s: %s failed (%s); will retry", job.inbox_id, self.channel, what)
        asyncio.get_running_loop().call_later(delay, self._queue.put_nowait, job)
        return True
