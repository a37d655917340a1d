"""The running bot as one process: every configured channel, and the background jobs (the broadcast sender,
notices) once every channel has handed over its transport; all stopped by one event (SIGTERM/SIGINT in
`python -m bot run`). What runs is listed by the composition root (`bot/app.py`)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core.delivery import Transport

log = logging.getLogger(__name__)


class RunningChannel(Protocol):
    """A channel that can send: what it hands over once ready."""

    @property
    def transport(self) -> Transport: ...


def settle_heap() -> None:
    """Before serving: a burst of updates or page requests makes many short-lived objects, and with the default
    thresholds the garbage collector takes a large share of the CPU (and its full scans of the start-up objects
    pause the loop). Start-up objects (content, ORM metadata) are frozen out of its scans."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


# A channel: runs until `stop` is set, calling `on_ready(channel)` once it can send.
ChannelRun = Callable[[asyncio.Event, Callable[[Any], Awaitable[None]]], Awaitable[None]]


@dataclass(frozen=True)
class Job:
    """A background job: `run(stop)` works until `stop` is set and then returns. With `cancel_on_stop`, it is
    cancelled at once instead, and, cancelled, takes nothing new while the work it started finishes (the
    broadcast sender: a drain may last minutes)."""

    name: str
    run: Callable[[asyncio.Event], Awaitable[None]]
    cancel_on_stop: bool = False


# Work done once before the jobs start (submitting contest attempts that ran out while the bot was down).
StartupTask = Callable[[], Awaitable[object]]


async def run_jobs(startup: Sequence[StartupTask], jobs: Sequence[Job], stop: asyncio.Event) -> None:
    """`startup` in order (a failure is logged: what it would do happens later, when touched), then `jobs`
    until `stop` or until one of them ends; then every job is cancelled and awaited."""
    for startup_task in startup:
        try:
            await startup_task()
        except Exception:
            log.exception("a start-up task failed; its work is done when the data is next touched")
    running: dict[Job, asyncio.Future[None]] = {job: asyncio.ensure_future(job.run(stop)) for job in jobs}
    stopped: asyncio.Future[bool] = asyncio.ensure_future(stop.wait())
    waiting: set[asyncio.Future[Any]] = {*running.values(), stopped}
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        stopped.cancel()
        for job, task in running.items():
            if job.cancel_on_stop:
                task.cancel()
        results = await asyncio.gather(*running.values(), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            raise result


async def serve(
    channels: Mapping[str, ChannelRun],
    startup: Sequence[StartupTask],
    make_jobs: Callable[[dict[str, Transport]], Sequence[Job]],
    stop: asyncio.Event,
) -> None:
    """Run the channels with the shared `stop` event; the jobs start once every channel has handed over its
    transport. Returns when everything has stopped; if one channel fails, the others are stopped and the error
    is raised."""
    transports: dict[str, Transport] = {}
    all_ready = asyncio.Event()

    def ready_hook(name: str) -> Callable[[RunningChannel], Awaitable[None]]:
        async def on_ready(channel: RunningChannel) -> None:
            transports[name] = channel.transport
            if len(transports) == len(channels):
                all_ready.set()

        return on_ready

    # The channels stop after the jobs: their transports stay open until the last broadcast send is marked.
    channels_stop = asyncio.Event()

    async def channel_task(name: str, run: ChannelRun) -> None:
        try:
            await run(channels_stop, ready_hook(name))
        finally:
            stop.set()  # one channel down (or stopping): everything stops, so a supervisor restarts us whole

    async def jobs_task() -> None:
        try:
            waiter = asyncio.ensure_future(all_ready.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()
            if not stop.is_set():
                await run_jobs(startup, make_jobs(transports), stop)
        finally:
            stop.set()
            channels_stop.set()

    results = await asyncio.gather(
        *(channel_task(n, run) for n, run in channels.items()), jobs_task(), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
