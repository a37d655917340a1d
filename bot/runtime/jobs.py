"""The running bot as one process: every configured channel, the broadcast sender and the contest jobs, all
stopped by one event (SIGTERM/SIGINT in `python -m bot run`)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from typing import Any

from bot.app import App
from bot.contests.runtime import deliver_notices, reconcile
from bot.runtime.broadcast_sender import BroadcastSender
from bot.runtime.transport import Transport

log = logging.getLogger(__name__)


async def notices_loop(app: App, transports: dict[str, Transport], stop: asyncio.Event, every: float) -> None:
    """Prize notices go out within `every` seconds of publishing; a failure is logged and tried next round."""
    while not stop.is_set():
        try:
            while await deliver_notices(app, transports):  # a full batch: go on at once
                if stop.is_set():
                    return
        except Exception:
            log.exception("contest notices could not be sent; trying again later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def run_jobs(
    app: App,
    transports: dict[str, Transport],
    stop: asyncio.Event,
    *,
    notice_seconds: float = 10.0,
    sender: BroadcastSender | None = None,
) -> None:
    """Background work of the running bot until `stop`: overdue contest attempts are closed first, then the
    broadcast sender (one per process; several processes are safe on PostgreSQL) and the prize notices run."""
    try:
        await reconcile(app)
    except Exception:
        log.exception("overdue contest attempts could not be closed at start; they close when touched")
    sender = sender or BroadcastSender(app, transports)
    sending = asyncio.create_task(sender.run(stop))
    notices = asyncio.create_task(notices_loop(app, transports, stop, notice_seconds))
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({sending, notices, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        stopped.cancel()
        # The sender drains until its queue is empty; cancelling it makes it take no new row while the sends
        # already started finish and are marked (see bot.runtime.broadcast_sender).
        sending.cancel()
        results = await asyncio.gather(sending, notices, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            raise result


async def serve(
    app: App,
    channels: list[str],
    stop: asyncio.Event,
    *,
    notice_seconds: float = 10.0,
    sender_factory: Any = None,
) -> None:
    """Run the named channels (`bot.channels.<name>.app.run`) with the shared `stop` event; the jobs start once
    every channel has handed over its transport. Returns when everything has stopped; if one channel fails,
    the others are stopped and the error is raised."""
    transports: dict[str, Transport] = {}
    all_ready = asyncio.Event()

    def ready_hook(name: str) -> Any:
        async def on_ready(channel: Any) -> None:
            transports[name] = channel.transport
            if len(transports) == len(channels):
                all_ready.set()

        return on_ready

    # The channels stop after the jobs: their transports stay open until the last broadcast send is marked.
    channels_stop = asyncio.Event()

    async def channel_task(name: str) -> None:
        module = importlib.import_module(f"bot.channels.{name}.app")
        try:
            await module.run(app, stop=channels_stop, on_ready=ready_hook(name))
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
                sender = sender_factory(app, transports) if sender_factory else None
                await run_jobs(app, transports, stop, notice_seconds=notice_seconds, sender=sender)
        finally:
            stop.set()
            channels_stop.set()

    results = await asyncio.gather(*(channel_task(n) for n in channels), jobs_task(), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
