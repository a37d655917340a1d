"""The Zalo OA channel: the webhook (the OA has no polling) into the inbox, replies as consultation messages.

The OAuth tokens arrive as an `OATokenSource` and the followers' interaction times as a `Followers` store, both
built by the composition root: the channel knows neither the database nor how tokens are kept."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.channels.zalo_oa.client import OAClient
from bot.channels.zalo_oa.mapping import CHANNEL, FOLLOW, UNFOLLOW, OAEvent, event_name, parse_update, timestamp_ms
from bot.channels.zalo_oa.mapping import user_id as event_user
from bot.channels.zalo_oa.render import Translate
from bot.channels.zalo_oa.settings import ZaloOASettings
from bot.channels.zalo_oa.transport import Followers, OATransport
from bot.channels.zalo_oa.webhook import WEBHOOK_PATH, webhook_app
from bot.core.delivery import DeliveryResult, DeliveryStatus
from bot.core.events import ChannelAddress, IncomingEvent
from bot.core.replies import Reply
from bot.core.sendlimit import LocalSendLimit, Pace, SendLimit, bot_key
from bot.runtime.channel import ChannelDeps
from bot.runtime.inbox import InboxWorker, SendLater
from bot.runtime.oa_tokens import OATokenSource
from bot.runtime.signals import stop_on_signals

log = logging.getLogger(__name__)


class OAConfigError(RuntimeError):
    """The settings cannot work (no app id, secret key or OA id); the channel refuses to start."""


WAIT_FOR_TOKEN = {"oa_authorize", "oa_token_unavailable"}  # the transport's errors while no token is usable


class DeliveryRetry(Exception):
    """The OA could not take the replies now; the inbox worker tries again later."""


def check_settings(s: ZaloOASettings) -> None:
    missing = [
        name
        for name, value in (
            ("ZALO_OA_APP_ID", s.zalo_oa_app_id),
            ("ZALO_OA_SECRET_KEY", s.zalo_oa_secret_key),
            ("ZALO_OA_ID", s.zalo_oa_id),
        )
        if not value
    ]
    if missing:
        raise OAConfigError(
            f"{', '.join(missing)} not set: the webhook could not check who sent an event, so it does not start"
        )
    if s.zalo_oa_webhook_url and not s.zalo_oa_webhook_url.startswith("https://"):
        log.warning("ZALO_OA_WEBHOOK_URL is not https; Zalo only calls https addresses")


def make_limit(s: ZaloOASettings, deps: ChannelDeps) -> SendLimit:
    """The OA's pace over all its calls: shared by the bot's processes when the root gives a shared limit."""
    pace = Pace(per_second=s.zalo_oa_rate_per_second, chat_per_second=1000.0, chat_burst=1000)
    if deps.send_limits is not None:
        return deps.send_limits(bot_key(CHANNEL, s.zalo_oa_id or ""), pace)
    return LocalSendLimit(pace)


async def translate_for(deps: ChannelDeps, address: ChannelAddress) -> Translate:
    async with deps.uow_factory() as uow:
        user = await uow.users.by_account(address.channel, address.user_id)
    locale = user.locale if user else None
    return lambda message: deps.i18n.gettext(locale, message)


def _at(update: dict[str, Any], fallback: dt.datetime) -> dt.datetime:
    ms = timestamp_ms(update)
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC) if ms is not None else fallback


class ZaloOAChannel:
    """Owns the client, the inbox worker, the webhook and the transport of one Official Account."""

    def __init__(
        self,
        settings: ZaloOASettings,
        deps: ChannelDeps,
        tokens: OATokenSource,
        followers: Followers,
        client: OAClient | None = None,
        limit: SendLimit | None = None,
    ) -> None:
        check_settings(settings)
        self.settings, self.deps, self.followers = settings, deps, followers
        self.oa_id = settings.zalo_oa_id or ""
        self.client = client or OAClient(tokens, settings.zalo_oa_api_base)
        self.transport = OATransport(
            self.client,
            self.oa_id,
            lambda address: translate_for(deps, address),
            limit or make_limit(settings, deps),
            followers,
            deps.clock,
        )
        self.worker: InboxWorker | None = None
        self.port: int | None = None
        self.ready = asyncio.Event()  # set once the webhook takes events

    def start(self) -> InboxWorker:
        self.worker = InboxWorker(
            self.deps.uow_factory,
            self.deps.dispatcher,
            self.deps.clock,
            CHANNEL,
            self.oa_id,
            lambda update: parse_update(update, self.oa_id),
            self.send,
            group_concurrency=self.deps.group_concurrency,
        )
        return self.worker

    async def send(self, event: IncomingEvent, replies: list[Reply]) -> None:
        """The inbox worker's sender: replies to the user who acted quote their message; a reply for someone
        else (a parent, a teacher) is a message the OA starts, inside that user's window only."""
        groups: dict[ChannelAddress, list[Reply]] = {}
        for reply in replies:
            target = reply.to or event.address
            if target.channel != CHANNEL:
                log.warning("a reply for the %s channel cannot be sent from the zalo oa; dropped", target.channel)
                continue
            groups.setdefault(target, []).append(reply)
        for target, batch in groups.items():
            result: DeliveryResult
            if target == event.address:
                quote = event.msg_id if isinstance(event, OAEvent) else ""
                result = await self.transport.reply(target, batch, quote)
            else:
                result = await self.transport.deliver(target, batch)
            if result.status is DeliveryStatus.RETRY and result.error in WAIT_FOR_TOKEN:
                raise SendLater(result.error or "")  # no usable token: kept until one comes, never a dead letter
            if result.status is DeliveryStatus.RETRY:
                raise DeliveryRetry(result.error or "retry")
            if result.status is not DeliveryStatus.SENT:
                log.warning("zalo oa replies not delivered: %s", result.error)

    async def submit(self, key: str, update: dict[str, Any]) -> bool:
        assert self.worker is not None
        return await self.worker.submit(key, update)

    async def on_stored(self, update: dict[str, Any]) -> None:
        """Every event from a user opens their window again; unfollowing closes it."""
        who = event_user(update)
        if not who:
            return
        name = event_name(update)
        following = True if name == FOLLOW else False if name == UNFOLLOW else None
        await self.followers.interacted(self.oa_id, who, _at(update, self.deps.clock()), following)
        if name == UNFOLLOW:
            async with self.deps.uow_factory() as uow:
                await uow.users.set_reachable(CHANNEL, who, False)
                await uow.commit()

    def web_app(self) -> web.Application:
        s = self.settings
        return webhook_app(
            s.zalo_oa_app_id or "",
            s.zalo_oa_secret_key.get_secret_value() if s.zalo_oa_secret_key else "",
            self.oa_id,
            self.submit,
            lambda: int(self.deps.clock().timestamp() * 1000),
            on_stored=self.on_stored,
            max_age_seconds=s.zalo_oa_webhook_max_age_seconds,
        )

    async def start_webhook(self) -> web.AppRunner:
        s = self.settings
        runner = web.AppRunner(self.web_app(), access_log=None)
        await runner.setup()
        self.port = s.zalo_oa_webhook_port if s.zalo_oa_webhook_port is not None else s.webhook_port + 2
        await web.TCPSite(runner, s.webhook_host, self.port).start()
        log.info("zalo oa %s webhook listening on port %s at %s", self.oa_id, self.port, WEBHOOK_PATH)
        return runner

    async def run(self, stop: asyncio.Event) -> None:
        try:
            worker = self.start()
            work = asyncio.create_task(worker.run(stop))
            runner = None
            try:
                runner = await self.start_webhook()
                self.ready.set()
                await stop.wait()
            finally:
                stop.set()
                if runner is not None:
                    await runner.cleanup()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
        finally:
            await self.client.aclose()


@contextlib.asynccontextmanager
async def broadcast_transport(
    s: ZaloOASettings, deps: ChannelDeps, tokens: OATokenSource, followers: Followers
) -> AsyncIterator[OATransport]:
    """An OA transport for broadcasts and notices sent outside the running bot (the command line)."""
    check_settings(s)
    client = OAClient(tokens, s.zalo_oa_api_base)
    try:
        yield OATransport(
            client, s.zalo_oa_id or "", lambda a: translate_for(deps, a), make_limit(s, deps), followers, deps.clock
        )
    finally:
        await client.aclose()


async def run(
    settings: ZaloOASettings,
    deps: ChannelDeps,
    tokens: OATokenSource,
    followers: Followers,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[ZaloOAChannel], Awaitable[None]] | None = None,
) -> None:
    """Entry point used by `python -m bot run --channel zalo_oa`: returns once `stop` is set and the work in
    hand is finished. `on_ready(channel)` hands `channel.transport` to the broadcast sender and the notices."""
    try:
        channel = ZaloOAChannel(settings, deps, tokens, followers)
    except OAConfigError as exc:
        log.critical("zalo_oa: %s", exc)
        raise SystemExit(f"zalo_oa: {exc}") from None
    signals = contextlib.ExitStack()
    if stop is None:
        stop = asyncio.Event()
        signals.enter_context(stop_on_signals(stop))
    try:
        if on_ready is not None:
            await on_ready(channel)
        await channel.run(stop)
    finally:
        signals.close()
