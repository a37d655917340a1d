"""The Zalo channel: polling (`getUpdates` in a loop) or webhook (ZALO_WEBHOOK_URL), both through the inbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.channels.zalo.client import ZaloApiError, ZaloClient, ZaloNetworkError, ZaloUnauthorized
from bot.channels.zalo.mapping import CHANNEL, external_id, is_self_echo, parse_update
from bot.channels.zalo.render import Translate
from bot.channels.zalo.settings import ZaloSettings
from bot.channels.zalo.transport import RateLimiter, ZaloTransport
from bot.channels.zalo.webhook import WEBHOOK_PATH, valid_secret, webhook_app
from bot.core.delivery import DeliveryStatus
from bot.core.events import ChannelAddress, IncomingEvent
from bot.core.replies import Reply
from bot.core.sendlimit import Pace, bot_key
from bot.runtime.channel import ChannelDeps
from bot.runtime.inbox import InboxWorker
from bot.runtime.payloads import storable
from bot.runtime.signals import stop_on_signals

log = logging.getLogger(__name__)


class ZaloConfigError(RuntimeError):
    """The settings cannot work (e.g. a webhook without a secret); the channel refuses to start."""


class DeliveryRetry(Exception):
    """Zalo could not take the replies now; the inbox worker tries again later."""


def check_settings(s: ZaloSettings) -> None:
    if s.zalo_bot_token is None:
        raise ZaloConfigError("ZALO_BOT_TOKEN is not set")
    if s.zalo_webhook_url:
        secret = s.zalo_webhook_secret.get_secret_value() if s.zalo_webhook_secret else None
        if not valid_secret(secret):
            raise ZaloConfigError(
                "ZALO_WEBHOOK_URL is set but ZALO_WEBHOOK_SECRET is missing or not 8–256 characters: "
                "the webhook would accept anyone's updates, so it does not start"
            )
        if not s.zalo_webhook_url.startswith("https://"):
            log.warning("ZALO_WEBHOOK_URL is not https; the real Zalo platform only calls https URLs")


async def translate_for(deps: ChannelDeps, address: ChannelAddress) -> Translate:
    """Hints and notes in the recipient's language."""
    async with deps.uow_factory() as uow:
        user = await uow.users.by_account(address.channel, address.user_id)
    locale = user.locale if user else None
    return lambda message: deps.i18n.gettext(locale, message)


@contextlib.asynccontextmanager
async def broadcast_transport(s: ZaloSettings, deps: ChannelDeps) -> AsyncIterator[ZaloTransport]:
    """A Zalo transport for broadcasts and contest notices sent outside the running bot (the command line)."""
    if s.zalo_bot_token is None:
        raise ZaloConfigError("ZALO_BOT_TOKEN is not set")
    client = ZaloClient(s.zalo_bot_token.get_secret_value(), s.zalo_api_base)
    limiter = make_limiter(s, deps)
    try:
        yield ZaloTransport(client, lambda address: translate_for(deps, address), limiter)
    finally:
        await client.aclose()


def make_limiter(s: ZaloSettings, deps: ChannelDeps) -> RateLimiter:
    """This process's pace, and the bot's limit shared by all its processes when the root gives one (Redis)."""
    shared = None
    if deps.send_limits is not None and s.zalo_bot_token is not None:
        pace = Pace(s.zalo_rate_per_second, s.zalo_chat_rate_per_second)
        shared = deps.send_limits(bot_key("zalo", s.zalo_bot_token.get_secret_value()), pace)
    return RateLimiter(s.zalo_rate_per_second, s.zalo_chat_rate_per_second, shared=shared)


class ZaloChannel:
    """Owns the client, the inbox worker and the transport of one Zalo bot."""

    def __init__(
        self,
        settings: ZaloSettings,
        deps: ChannelDeps,
        client: ZaloClient | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        check_settings(settings)
        s = self.settings = settings
        self.deps = deps
        self.client = client or ZaloClient(s.zalo_bot_token.get_secret_value(), s.zalo_api_base)  # type: ignore[union-attr]
        self.limiter = limiter or make_limiter(s, deps)
        self.transport = ZaloTransport(self.client, self.translate_for, self.limiter)
        self.bot_id = ""
        self.worker: InboxWorker | None = None
        self.ready = asyncio.Event()  # set once updates are being received

    async def translate_for(self, address: ChannelAddress) -> Translate:
        return await translate_for(self.deps, address)

    async def start(self) -> InboxWorker:
        me = await self.client.get_me()  # a bad token stops here, loudly
        self.bot_id = me.id
        parse: Callable[[dict[str, Any]], IncomingEvent | None] = lambda u: parse_update(u, self.bot_id)  # noqa: E731
        self.worker = InboxWorker(
            self.deps.uow_factory,
            self.deps.dispatcher,
            self.deps.clock,
            CHANNEL,
            self.bot_id,
            parse,
            self.send,
            group_concurrency=self.deps.group_concurrency,
        )
        mode = "webhook" if self.settings.zalo_webhook_url else "polling"
        log.info("zalo bot %s ready (%s mode)", self.bot_id, mode)
        return self.worker

    async def send(self, event: IncomingEvent, replies: list[Reply]) -> None:
        """The inbox worker's sender: replies go to the sender's chat, or to their own address (`to`)."""
        groups: dict[ChannelAddress, list[Reply]] = {}
        for reply in replies:
            target = reply.to or event.address
            if target.channel != CHANNEL:
                log.warning("a reply for the %s channel cannot be sent from zalo; dropped", target.channel)
                continue
            groups.setdefault(target, []).append(reply)
        for target, batch in groups.items():
            result = await self.transport.deliver(target, batch)
            if result.status is DeliveryStatus.RETRY:
                raise DeliveryRetry(result.error or "retry")
            if result.status is not DeliveryStatus.SENT:
                log.warning("zalo replies not delivered: %s", result.error)

    async def submit(self, key: str, update: dict[str, Any]) -> bool:
        assert self.worker is not None
        return await self.worker.submit(key, update)

    # --- polling ---------------------------------------------------------------------------------------

    async def ensure_polling_allowed(self) -> None:
        """getUpdates and a webhook exclude each other: never silently take over a webhook another process uses."""
        info = await self.client.get_webhook_info()
        if not info.url:
            return
        if not self.settings.zalo_replace_webhook:
            raise ZaloConfigError(
                "a webhook is set for this Zalo bot (another process in webhook mode?); polling would fight it. "
                "Set ZALO_WEBHOOK_URL to run in webhook mode, or ZALO_REPLACE_WEBHOOK=1 once to remove it."
            )
        log.warning("ZALO_REPLACE_WEBHOOK=1: removing the webhook to poll instead")
        await self.client.delete_webhook()

    async def poll(self, stop: asyncio.Event) -> None:
        """Zalo has no offsets: an update handed out is gone, so it is stored before the next poll."""
        failures = 0
        while not stop.is_set():
            try:
                updates = await self.client.get_updates(self.settings.zalo_poll_timeout)
                failures = 0
            except ZaloUnauthorized:
                raise
            except ZaloApiError as exc:
                if not exc.transient:
                    await self.ensure_polling_allowed()  # raises when a webhook appeared meanwhile
                failures += 1
                await self._pause(stop, self.client.backoff(failures - 1, exc.retry_after))
                continue
            except ZaloNetworkError:
                failures += 1
                await self._pause(stop, self.client.backoff(failures - 1))
                continue
            for update in updates:
                await self._store(update, stop)

    async def _store(self, update: dict[str, Any], stop: asyncio.Event) -> None:
        key = external_id(update)
        if key is None or is_self_echo(update, self.bot_id):
            return
        if not storable(update):  # it could never be stored: retrying would block every later update
            log.warning("zalo: malformed update dropped")
            return
        attempt = 0
        while True:
            try:
                await self.submit(key, update)
                return
            except Exception:
                # The update exists nowhere else now: keep it in hand and try again.
                log.exception("zalo: could not store an update; retrying")
                if stop.is_set() and attempt >= 3:
                    return
                await asyncio.sleep(self.client.backoff(attempt))
                attempt += 1

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    # --- webhook ---------------------------------------------------------------------------------------

    async def start_webhook(self) -> web.AppRunner:
        s = self.settings
        secret = s.zalo_webhook_secret.get_secret_value()  # type: ignore[union-attr]
        runner = web.AppRunner(webhook_app(secret, self.bot_id, self.submit), access_log=None)
        await runner.setup()
        port = s.zalo_webhook_port if s.zalo_webhook_port is not None else s.webhook_port + 1
        await web.TCPSite(runner, s.webhook_host, port).start()
        await self.client.set_webhook(s.zalo_webhook_url, secret)  # type: ignore[arg-type]
        log.info("zalo webhook listening on port %s at %s", port, WEBHOOK_PATH)
        return runner

    # --- the whole channel ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        try:
            worker = await self.start()
            webhook = bool(self.settings.zalo_webhook_url)
            if not webhook:
                await self.ensure_polling_allowed()
            work = asyncio.create_task(worker.run(stop))
            runner = None
            try:
                if webhook:
                    runner = await self.start_webhook()
                    self.ready.set()
                    await stop.wait()
                else:
                    self.ready.set()
                    await self.poll(stop)
            finally:
                stop.set()
                if runner is not None:
                    await runner.cleanup()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
        finally:
            await self.client.aclose()


async def run(
    settings: ZaloSettings,
    deps: ChannelDeps,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[ZaloChannel], Awaitable[None]] | None = None,
) -> None:
    """Entry point used by `python -m bot run`: returns once `stop` is set and the work in hand is finished.
    Without a `stop` event it installs its own SIGTERM/SIGINT handlers; with one, the caller owns the signals.
    `on_ready(channel)` hands `channel.transport` to the broadcast sender and the notices."""
    try:
        channel = ZaloChannel(settings, deps)
    except ZaloConfigError as exc:
        log.critical("zalo: %s", exc)
        raise SystemExit(f"zalo: {exc}") from None
    signals = contextlib.ExitStack()
    if stop is None:  # running alone: this channel owns SIGTERM/SIGINT
        stop = asyncio.Event()
        signals.enter_context(stop_on_signals(stop))
    try:
        if on_ready is not None:
            await on_ready(channel)
        await channel.run(stop)
    except ZaloConfigError as exc:
        log.critical("zalo: %s", exc)
        raise SystemExit(f"zalo: {exc}") from None
    finally:
        signals.close()
