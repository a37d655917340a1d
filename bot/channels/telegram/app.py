"""Runs the Telegram channel: long polling (default) or webhook, both storing each update in the durable inbox
before it is confirmed; the inbox worker handles them and replies through the rate-limited transport."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import User
from aiohttp import ClientError, ClientTimeout, web

from bot.channels.telegram import webhook
from bot.channels.telegram.commands import REFRESH_SECONDS, CommandMenus
from bot.channels.telegram.mapping import ALLOWED_UPDATES, CHANNEL, make_parser
from bot.channels.telegram.ratelimit import WINDOW, RateLimiter
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.transport import TelegramTransport
from bot.core.sendlimit import Pace, bot_key
from bot.runtime.channel import AlreadyRunning, ChannelDeps
from bot.runtime.inbox import InboxWorker
from bot.runtime.payloads import storable
from bot.runtime.signals import stop_on_signals

log = logging.getLogger(__name__)


class PollingConflict(RuntimeError):
    """Another process is polling with the same token."""


class _TryAgain(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def make_bot(token: str, api_base: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    return Bot(token, session=session)


@contextlib.asynccontextmanager
async def broadcast_transport(s: TelegramSettings, deps: ChannelDeps) -> AsyncIterator[TelegramTransport]:
    """A Telegram transport for broadcasts sent outside the running bot (`python -m bot broadcast send`); the
    broadcast sender sets the pace, this limiter only keeps the per-chat spacing."""
    if s.telegram_bot_token is None:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    bot = make_bot(s.telegram_bot_token.get_secret_value(), s.telegram_api_base)
    limiter = make_limiter(s, deps, bot.token)
    try:
        yield TelegramTransport(bot, limiter, deps.uow_factory)
    finally:
        await bot.session.close()


def make_limiter(s: TelegramSettings, deps: ChannelDeps, token: str) -> RateLimiter:
    """This process's pace, and the bot's limit shared by all its processes when the root gives one (Redis)."""
    pace = Pace(
        s.telegram_rate_per_second,
        s.telegram_chat_per_second,
        group_per_minute=s.telegram_group_per_minute,
        window=WINDOW,  # a little over 1 s, as this process's own window: jitter cannot make 1 s hold more
    )
    shared = deps.send_limits(bot_key(CHANNEL, token), pace) if deps.send_limits is not None else None
    return RateLimiter(
        s.telegram_rate_per_second,
        s.telegram_chat_per_second,
        group_per_minute=s.telegram_group_per_minute,
        shared=shared,
    )


class TelegramChannel:
    """One bot: the inbox worker, the transport, the command menus, and the way updates come in."""

    def __init__(
        self, settings: TelegramSettings, deps: ChannelDeps, bot: Bot, me: User, limiter: RateLimiter | None = None
    ) -> None:
        s = settings
        self.settings, self.deps, self.bot, self.me = settings, deps, bot, me
        self.bot_id = str(me.id)
        self.limiter = limiter or make_limiter(s, deps, bot.token)
        self.transport = TelegramTransport(bot, self.limiter, deps.uow_factory)
        self.worker = InboxWorker(
            deps.uow_factory,
            deps.dispatcher,
            deps.clock,
            CHANNEL,
            self.bot_id,
            make_parser(me.username),
            self.transport.reply,
            # Polling is one process (a lock ensures it); webhook mode may run several on one inbox.
            sweep_min_age_seconds=s.telegram_webhook_sweep_min_age_seconds if s.telegram_webhook_url else 0.0,
            group_concurrency=deps.group_concurrency,
        )
        self.commands = CommandMenus(bot, deps.uow_factory, deps.command_menu)

    async def store(self, update_id: int, payload: dict[str, Any]) -> bool:
        """Commit the update to the inbox; False when it was already there (a redelivery)."""
        new = await self.worker.submit(str(update_id), payload)
        callback = payload.get("callback_query")
        if new and isinstance(callback, dict) and callback.get("id"):
            self.transport.expect_answer(str(callback["id"]), self.settings.telegram_callback_answer_seconds)
        return new

    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        worker = asyncio.create_task(self.worker.run(stop, s.shutdown_grace_seconds))
        menus = asyncio.create_task(self._menus(stop))
        try:
            if s.telegram_webhook_url:
                await self.serve_webhook(stop)
            else:
                try:
                    async with self.deps.single_instance(f"telegram-poll-{self.bot_id}"):
                        await self.poll(stop)
                except AlreadyRunning:
                    raise PollingConflict(
                        "another process is already polling this bot on this database; stop it or use webhook mode"
                    ) from None
        finally:
            stop.set()
            menus.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await menus
            await worker  # the worker lets work in hand finish (grace), then returns

    async def _menus(self, stop: asyncio.Event) -> None:
        """Command menus are a convenience: a failure is logged and tried again later, never fatal."""
        first = True
        while not stop.is_set():
            try:
                await (self.commands.publish() if first else self.commands.refresh_staff())
                first = False
            except Exception:
                log.warning("command menus could not be updated; will try again", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), REFRESH_SECONDS)

    # --- long polling ----------------------------------------------------------------------------------------
    async def poll(self, stop: asyncio.Event) -> None:
        timeout = self.settings.telegram_poll_timeout
        # Polling needs no webhook; pending updates are kept (never dropped on start).
        await self.bot.delete_webhook(drop_pending_updates=False)
        log.info("Telegram: polling as @%s", self.me.username)
        offset: int | None = None
        delay = 0.5
        while not stop.is_set():
            fetch = asyncio.ensure_future(self._get_updates(offset, timeout))
            stopped = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if fetch not in done:  # stopping: what that poll would have returned is fetched again next start
                fetch.cancel()
                with contextlib.suppress(BaseException):
                    await fetch
                return
            try:
                updates = fetch.result()
            except _TryAgain as exc:
                wait = exc.retry_after if exc.retry_after is not None else delay
                log.warning("getUpdates failed (%s); trying again in %.1fs", exc, wait)
                await _sleep_or_stop(stop, wait)
                delay = min(delay * 2, 30.0)
                continue
            delay = 0.5
            if not updates:
                continue
            storable_updates = []
            for payload in updates:
                if storable(payload):
                    storable_updates.append(payload)
                else:  # it could never be stored: confirm it with the batch and move on, or it blocks all
                    log.warning("Telegram update %s cannot be stored (malformed); dropped", payload.get("update_id"))
            # The whole batch in one transaction; only then is it confirmed (the next offset is past it).
            if storable_updates and not await self._store_until_stored(storable_updates, stop):
                return
            offset = int(updates[-1]["update_id"]) + 1

    async def _get_updates(self, offset: int | None, poll_seconds: int) -> list[dict[str, Any]]:
        """getUpdates as raw JSON: the inbox keeps exactly what Telegram sent, and one update aiogram's types
        cannot read does not make the whole batch unreadable."""
        session = await cast(AiohttpSession, self.bot.session).create_session()
        url = self.bot.session.api.api_url(token=self.bot.token, method="getUpdates")
        body: dict[str, Any] = {"timeout": poll_seconds, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            body["offset"] = offset
        try:
            async with session.post(url, json=body, timeout=ClientTimeout(total=poll_seconds + 15)) as resp:
                data = await resp.json(content_type=None)
        except (ClientError, TimeoutError, ValueError) as exc:
            raise _TryAgain(type(exc).__name__) from exc
        if not isinstance(data, dict):
            raise _TryAgain("unreadable answer")
        if data.get("ok"):
            return [u for u in data.get("result") or [] if isinstance(u, dict) and "update_id" in u]
        code = data.get("error_code")
        if code == 409:
            log.critical("Telegram says another instance is polling this bot (409 Conflict); stopping")
            raise PollingConflict(str(data.get("description", "Conflict")))
        retry_after = (data.get("parameters") or {}).get("retry_after")
        raise _TryAgain(f"error {code}", float(retry_after) if retry_after is not None else None)

    async def store_batch(self, updates: list[dict[str, Any]]) -> None:
        """Commit a getUpdates batch to the inbox in one transaction."""
        new = await self.worker.submit_many([(str(int(u["update_id"])), u) for u in updates])
        for payload, fresh in zip(updates, new, strict=True):
            callback = payload.get("callback_query")
            if fresh and isinstance(callback, dict) and callback.get("id"):
                self.transport.expect_answer(str(callback["id"]), self.settings.telegram_callback_answer_seconds)

    async def _store_until_stored(self, updates: list[dict[str, Any]], stop: asyncio.Event) -> bool:
        delay = 0.5
        while True:
            try:
                await self.store_batch(updates)
                return True
            except Exception:
                log.exception("could not store a Telegram update; retrying (it is not confirmed to Telegram)")
                if await _sleep_or_stop(stop, delay):
                    return False
                delay = min(delay * 2, 30.0)

    # --- webhook ---------------------------------------------------------------------------------------------
    async def serve_webhook(self, stop: asyncio.Event) -> None:
        s = self.settings
        url, path, secret = webhook.checked_settings(s, self.bot.token)
        runner = web.AppRunner(webhook.make_webhook_app(secret, self.store, path), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, s.webhook_host, s.webhook_port)
        await site.start()
        try:
            # Listening first, so the first delivery finds us; pending updates are kept.
            await self.bot.set_webhook(
                url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
            )
            log.info("Telegram: webhook mode on %s:%s%s", s.webhook_host, s.webhook_port, path)
            await stop.wait()
        finally:
            await runner.cleanup()  # stop taking updates; what is stored is handled by the worker's drain


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep; True when stop was set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def run(
    settings: TelegramSettings,
    deps: ChannelDeps,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[TelegramChannel], Awaitable[None]] | None = None,
) -> None:
    """Entry point of `python -m bot run` when TELEGRAM_BOT_TOKEN is set. Returns once `stop` is set and the
    work in hand is finished. Without a `stop` event (the channel runs alone) it installs its own SIGTERM/SIGINT
    handlers; with one, whoever made the event owns the signals (`python -m bot run` shares one event between
    all channels). `on_ready(channel)` lets other workers (the broadcast sender, contest notices) use
    `channel.transport`, which shares this bot's rate limiter."""
    s = settings
    assert s.telegram_bot_token is not None, "TELEGRAM_BOT_TOKEN is not set"
    token = s.telegram_bot_token.get_secret_value()
    if s.telegram_webhook_url:
        webhook.checked_settings(s, token)  # refuse to start before touching the network
    signals = contextlib.ExitStack()
    if stop is None:  # running alone: this channel owns SIGTERM/SIGINT
        stop = asyncio.Event()
        signals.enter_context(stop_on_signals(stop))
    bot = make_bot(token, s.telegram_api_base)
    try:
        me = await bot.get_me()
        deps.dispatcher.settings.bot_username = me.username  # deep links (t.me/<bot>?start=...) need it
        channel = TelegramChannel(settings, deps, bot, me)
        if on_ready is not None:
            await on_ready(channel)
        await channel.run(stop)
    finally:
        signals.close()
        await bot.session.close()
