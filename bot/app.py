"""The composition root: the only place that knows every part. It builds the settings, the database, the
content, the translations and the dispatcher once, and lists explicitly what the product is made of: the
features' routers, the repositories of the unit of work, the command-line groups, the channels and the
background jobs. Every other part receives the narrow things it uses from here."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import i18n_tools
from bot.accounts import groups, link, media, menu, menus, onboarding, staff
from bot.accounts import help as help_flow
from bot.accounts import sql as accounts_sql
from bot.accounts.seed import seed_demo
from bot.broadcasts import assigned, classes
from bot.broadcasts import cli as broadcasts_cli
from bot.broadcasts import flows as broadcasts_flows
from bot.broadcasts import sql as broadcasts_sql
from bot.broadcasts.ports import BroadcastsUnitOfWork
from bot.broadcasts.sender import BroadcastSender, ChannelLimits, Sleep
from bot.channels.console.app import USER_HELP, run_console
from bot.channels.console.transport import ConsoleOutput, ConsoleTransport, Outbox
from bot.channels.telegram import app as telegram
from bot.channels.telegram import webapp as telegram_webapp
from bot.channels.zalo import app as zalo
from bot.channels.zalo_oa import app as zalo_oa
from bot.channels.zalo_oa.oauth import ZaloOAuth, permission_url
from bot.config import ReportSettings, Settings
from bot.content import cli as content_cli
from bot.content.loader import Content, load_content
from bot.contests import admin as contests_admin
from bot.contests import cli as contests_cli
from bot.contests import flows as contests_flows
from bot.contests import jobs as contests_jobs
from bot.contests import sql as contests_sql
from bot.contests.ports import ContestsUnitOfWork
from bot.core.clock import Clock, utc_now
from bot.core.context import CoreSettings
from bot.core.delivery import Transport
from bot.core.dispatcher import Dispatcher
from bot.core.i18n import I18n
from bot.core.roles import Role
from bot.core.router import Router
from bot.learning import answers, lessons, practice, progress
from bot.learning import sql as learning_sql
from bot.live import sql as live_sql
from bot.live.ports import LiveUnitOfWork
from bot.logging_setup import install_redaction
from bot.mailbox import flows as mailbox_flows
from bot.mailbox import sql as mailbox_sql
from bot.mailbox.ports import MailboxUnitOfWork
from bot.pledges import admin as pledges_admin
from bot.pledges import flows as pledges_flows
from bot.pledges import sql as pledges_sql
from bot.privacy import cli as privacy_cli
from bot.privacy import flows as privacy_flows
from bot.privacy import sql as privacy_sql
from bot.privacy.ports import PrivacyUnitOfWork
from bot.reports import cli as reports_cli
from bot.reports import flows as reports_flows
from bot.reports import sql as reports_sql
from bot.reports.options import ReportOptions
from bot.reports.ports import ReportsUnitOfWork
from bot.runtime import oa_cli
from bot.runtime import sql as runtime_sql
from bot.runtime.channel import AlreadyRunning, ChannelDeps
from bot.runtime.inbox import InboxWorker, Parser, Sender
from bot.runtime.notices import deliver_notices, notices_loop
from bot.runtime.oa_followers import FollowerLog, OAUnitOfWork
from bot.runtime.oa_token_store import Hook, OATokenKeyError, OATokenStore, TokenCipher
from bot.runtime.oa_tokens import OATokenSource
from bot.runtime.serve import ChannelRun, Job, serve, settle_heap
from bot.runtime.signals import stop_on_signals
from bot.standard import flows as standard_flows
from bot.standard import sql as standard_sql
from bot.standard.ports import StandardUnitOfWork
from bot.web import flows as web_flows
from bot.web import page_flows
from bot.web import sql as web_sql
from bot.web.files import file_links
from bot.web.page_ports import PageUnitOfWork
from bot.web.ports import WebUnitOfWork
from bot.web.server import WebDeps, run_web, start_web
from bot.web.service import sign_in_link
from db import locks
from db import repositories as kernel_sql
from db.migrate import upgrade, upgrade_async
from db.session import create_engine, create_read_engine, session_factory
from db.uow import RepositoryFactory, UnitOfWorkFactory

if TYPE_CHECKING:
    from bot.runtime.redis_limit import RedisSendLimits

log = logging.getLogger(__name__)

# The version of the privacy notice a consent is given to (stored with each consent).
NOTICE_VERSION = "2026-01"


def routers() -> list[Router]:
    """Every feature's routers. Names never overlap (the dispatcher refuses a name registered twice)."""
    return [
        # accounts: the front door
        menu.router,
        onboarding.router,
        help_flow.router,
        staff.router,
        groups.router,
        media.router,
        link.router,
        # learning
        lessons.router,
        practice.router,
        progress.router,
        answers.router,
        # contests
        contests_flows.router,
        contests_admin.router,
        # broadcasts
        classes.router,
        broadcasts_flows.router,
        assigned.router,
        # pledges
        pledges_flows.router,
        pledges_admin.router,
        # privacy and reports
        privacy_flows.router,
        reports_flows.router,
        # the "An toàn về ANTT" standard
        standard_flows.router,
        # the safe mailbox to the school's counsellors
        mailbox_flows.router,
        # the web console's sign-in link
        web_flows.router,
        page_flows.router,
    ]


# The unit of work's repositories by the name every feature's protocol gives them.
REPOSITORIES: Mapping[str, RepositoryFactory] = {
    # the kernel's
    "users": kernel_sql.SqlUserRepository,
    "conversations": kernel_sql.SqlConversationRepository,
    "audit": kernel_sql.SqlAuditRepository,
    "activity": kernel_sql.SqlActivityRepository,
    "notices": kernel_sql.SqlNoticeRepository,
    "security": kernel_sql.SqlSecurityRepository,
    "inbox": runtime_sql.SqlInboxRepository,
    "oa_followers": runtime_sql.SqlOAFollowerRepository,
    # accounts
    "schools": accounts_sql.SqlSchoolRepository,
    "classes": accounts_sql.SqlClassRepository,
    "invites": accounts_sql.SqlInviteRepository,
    "consents": accounts_sql.SqlConsentRepository,
    "class_groups": accounts_sql.SqlClassGroupRepository,
    "links": accounts_sql.SqlAccountLinkRepository,
    # learning, contests, broadcasts, privacy, reports, pledges
    "progress": learning_sql.SqlProgressRepository,
    "attempts": learning_sql.SqlAttemptRepository,
    "contests": contests_sql.SqlContestRepository,
    "rosters": broadcasts_sql.SqlRosterRepository,
    "broadcasts": broadcasts_sql.SqlBroadcastRepository,
    "parent_links": privacy_sql.SqlParentLinkRepository,
    "privacy": privacy_sql.SqlPrivacyRepository,
    "reports": reports_sql.SqlReportRepository,
    "snapshots": reports_sql.SqlSnapshotRepository,
    "pledges": pledges_sql.SqlPledgeRepository,
    "web": web_sql.SqlWebRepository,
    "web_files": web_sql.SqlWebFileRepository,
    "web_report_jobs": web_sql.SqlWebReportJobRepository,
    "page": web_sql.SqlPageRepository,
    "standard": standard_sql.SqlStandardRepository,
    "mailbox": mailbox_sql.SqlMailboxRepository,
    "live": live_sql.SqlLiveRepository,
}


class AppUnitOfWork(
    LiveUnitOfWork,
    WebUnitOfWork,
    PageUnitOfWork,
    ContestsUnitOfWork,
    BroadcastsUnitOfWork,
    PrivacyUnitOfWork,
    ReportsUnitOfWork,
    OAUnitOfWork,  # the runtime's (the inbox) with the OA's followers
    StandardUnitOfWork,
    MailboxUnitOfWork,
    Protocol,
):
    """The unit of work with every feature's repositories (what `REPOSITORIES` builds)."""


def unit_of_work_factory(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], AppUnitOfWork]:
    return cast(Callable[[], AppUnitOfWork], UnitOfWorkFactory(sessions, REPOSITORIES))


@dataclass(frozen=True)
class Env:
    """What the features read besides the database (`ctx.env`); each feature's protocol names its part."""

    content: Content
    practice_questions: int
    invite_ttl_hours: int
    notice_version: str
    retention_days: int
    reports: ReportOptions
    web_base_url: str = ""  # empty: the web console is off
    telegram_webapp_name: str = ""  # the contest page's Mini App (TELEGRAM_WEBAPP_NAME)
    mailbox_retention_days: int = 365  # closed letters to the counsellor are deleted this long after closing


def command_menu(i18n: I18n) -> Callable[[str, str], list[tuple[str, str]]]:
    return lambda role, locale: menus.command_menu(i18n, role, locale)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    uow_factory: Callable[[], AppUnitOfWork]
    content: Content
    i18n: I18n
    env: Env
    dispatcher: Dispatcher
    clock: Clock
    # Long reads (the overview's figures, reports) on connections of their own where the database needs it
    # (a SQLite file: see `create_read_engine`); else the same units of work as everything else.
    read_engine: AsyncEngine | None = None
    reader: Callable[[], AppUnitOfWork] | None = None
    # The outgoing limit every process of a bot shares (REDIS_URL); None: each process keeps its own pace.
    send_limits: RedisSendLimits | None = None
    # The Zalo OA's OAuth tokens (see `oa_token_source`); tests give their own.
    oa_tokens: OATokenSource | None = None

    async def close(self) -> None:
        if self.send_limits is not None:
            await self.send_limits.aclose()
        if self.read_engine is not None:
            await self.read_engine.dispose()
        await self.engine.dispose()

    # --- the narrow things each part receives ---------------------------------------------------------------

    def single_instance(self, name: str) -> contextlib.AbstractAsyncContextManager[None]:
        return _single_instance(self.engine, name)

    def channel_deps(self) -> ChannelDeps:
        return ChannelDeps(
            dispatcher=self.dispatcher,
            uow_factory=self.uow_factory,
            clock=self.clock,
            i18n=self.i18n,
            single_instance=self.single_instance,
            # SQLite has one writer connection: one group of updates at a time (see bot.runtime.inbox).
            group_concurrency=1 if self.engine.dialect.name == "sqlite" else 2,
            command_menu=command_menu(self.i18n),
            send_limits=self.send_limits,
        )

    @contextlib.asynccontextmanager
    async def oa_token_source(self) -> AsyncIterator[OATokenSource]:
        """The Zalo OA's token source: the encrypted OAuth token store (`oa_token_source` below), checked against
        ZALO_OA_TOKEN_KEY at start; tests give their own in `oa_tokens`."""
        if self.oa_tokens is not None:
            yield self.oa_tokens
            return
        async with oa_token_source(self.settings, self.clock) as (store, _oauth):
            yield store

    def oa_followers(self) -> FollowerLog:
        return FollowerLog(self.uow_factory, self.clock)

    def inbox_worker(self, channel: str, bot_id: str, parse: Parser, send: Sender, **options: Any) -> InboxWorker:
        """An inbox worker for a channel, as the platform channels make theirs (tests and benchmarks use it)."""
        deps = self.channel_deps()
        options.setdefault("group_concurrency", deps.group_concurrency)
        return InboxWorker(self.uow_factory, self.dispatcher, self.clock, channel, bot_id, parse, send, **options)

    def broadcast_sender(
        self,
        transports: dict[str, Transport],
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        limits: dict[str, ChannelLimits] | None = None,
        **options: Any,
    ) -> BroadcastSender:
        """The sender with the configured limits (BROADCAST_*), `limits` on top of them."""
        merged = {**broadcast_limits(self.settings), **(limits or {})}
        return BroadcastSender(
            self.uow_factory, transports, self.content, self.i18n, clock or self.clock, sleep, merged, **options
        )

    @contextlib.asynccontextmanager
    async def transports_with_tokens(self) -> AsyncIterator[dict[str, Transport]]:
        """Transports of the channels that have a token, for sending outside the running bot."""
        s, deps = self.settings, self.channel_deps()
        async with contextlib.AsyncExitStack() as stack:
            found: dict[str, Transport] = {}
            if s.telegram_bot_token is not None:
                found["telegram"] = await stack.enter_async_context(telegram.broadcast_transport(s, deps))
            if s.zalo_bot_token is not None:
                found["zalo"] = await stack.enter_async_context(zalo.broadcast_transport(s, deps))
            if s.zalo_oa_app_id is not None:
                tokens = await stack.enter_async_context(self.oa_token_source())
                oa = zalo_oa.broadcast_transport(s, deps, tokens, self.oa_followers())
                found["zalo_oa"] = await stack.enter_async_context(oa)
            yield found

    def web_deps(self) -> WebDeps:
        settings = self.dispatcher.settings  # the Telegram channel writes the bot's username there at start
        token = self.settings.telegram_bot_token
        return WebDeps(
            self.uow_factory,
            self.reader or self.uow_factory,
            self.clock,
            self.i18n,
            self.env.web_base_url,
            self.env.reports,
            self.content,
            bot_username=lambda: settings.bot_username,
            notice_version=self.env.notice_version,
            check_init_data=telegram_webapp.init_data_checker(token.get_secret_value()) if token else None,
            writers=1 if self.engine.dialect.name == "sqlite" else 2,
        )

    def console_output(self, sleep: Sleep | None = None) -> ConsoleOutput:
        """The console's delivery: after each typed line the sender and the notices go out through the console
        transport (messages wait for their user), and files are written to CONSOLE_OUTBOX."""
        transport = ConsoleTransport()
        sender = self.broadcast_sender({"console": transport}, sleep=sleep)

        async def deliver() -> None:
            await sender.drain_once()
            await deliver_notices(self.uow_factory, self.clock, {"console": transport})

        return ConsoleOutput(transport, Outbox(self.settings.console_outbox), deliver)

    @contextlib.asynccontextmanager
    async def contest_cli(self) -> AsyncIterator[contests_cli.Deps]:
        yield contests_cli.Deps(self.uow_factory, self.clock, self.content, self.i18n)

    @contextlib.asynccontextmanager
    async def broadcast_cli(self) -> AsyncIterator[broadcasts_cli.Deps]:
        yield broadcasts_cli.Deps(
            self.uow_factory, self.clock, self.content, self.transports_with_tokens, self.broadcast_sender
        )

    @contextlib.asynccontextmanager
    async def report_cli(self) -> AsyncIterator[reports_cli.Deps]:
        yield reports_cli.Deps(self.uow_factory, self.clock, self.env.reports)

    @contextlib.asynccontextmanager
    async def privacy_cli(self) -> AsyncIterator[privacy_cli.Deps]:
        yield privacy_cli.Deps(
            self.uow_factory,
            self.clock,
            self.settings.retention_days,
            self.settings.retention_inbox_days,
            self.settings.mailbox_retention_days,
        )


@contextlib.asynccontextmanager
async def _single_instance(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    try:
        async with locks.single_instance(engine, name):
            yield
    except locks.AlreadyRunning as exc:
        raise AlreadyRunning(str(exc)) from exc


def broadcast_limits(settings: Settings) -> dict[str, ChannelLimits]:
    """The broadcast sender's limits from the environment (BROADCAST_TELEGRAM_PER_SECOND, ...)."""
    group = settings.broadcast_group_per_minute
    return {
        "telegram": ChannelLimits(per_second=settings.broadcast_telegram_per_second, group_per_minute=group),
        "zalo": ChannelLimits(per_second=settings.broadcast_zalo_per_second, group_per_minute=group),
        # Two calls at a time: the OA counts calls a second over the whole app (-32) and publishes no burst.
        "zalo_oa": ChannelLimits(
            per_second=settings.broadcast_zalo_oa_per_second, group_per_minute=group, max_in_flight=2
        ),
    }


class ContentError(RuntimeError):
    pass


def build_app(
    settings: Settings | None = None,
    clock: Clock = utc_now,
    content: Content | None = None,
    core_settings: CoreSettings | None = None,
    reports: ReportOptions | None = None,
) -> App:
    settings = settings or Settings()
    content = content or load_content(settings.content_dir)
    if not content.ok:
        raise ContentError("content has errors; run `python -m bot content check`:\n" + "\n".join(content.errors[:20]))
    engine = create_engine(settings.database_url, fast_path=settings.db_fast_path)
    sessions = session_factory(engine, fast_path=settings.db_fast_path)
    uow_factory = unit_of_work_factory(sessions)
    i18n = I18n()
    env = Env(
        content=content,
        practice_questions=settings.practice_questions,
        invite_ttl_hours=settings.invite_ttl_hours,
        notice_version=NOTICE_VERSION,
        retention_days=settings.retention_days,
        reports=reports or ReportSettings().options(),
        web_base_url=web_base_url(settings),
        telegram_webapp_name=settings.telegram_webapp_name,
        mailbox_retention_days=settings.mailbox_retention_days,
    )
    core = core_settings or CoreSettings(flood_events=settings.flood_events, flood_seconds=settings.flood_seconds)
    links = file_links(env.web_base_url) if env.web_base_url else None
    dispatcher = Dispatcher(
        uow_factory, routers(), env, i18n, clock, core, file_links=links, understanding=content.understanding
    )
    read_engine = create_read_engine(settings.database_url)
    reader = unit_of_work_factory(session_factory(read_engine, fast_path=False)) if read_engine else uow_factory
    send_limits = None
    if settings.redis_url:
        from bot.runtime.redis_limit import RedisSendLimits  # redis-py loads only where Redis is used

        send_limits = RedisSendLimits(settings.redis_url)
    return App(
        settings, engine, sessions, uow_factory, content, i18n, env, dispatcher, clock, read_engine, reader, send_limits
    )


def web_base_url(settings: Settings, console: bool = False) -> str:
    """Where the web console is reached: WEB_BASE_URL, or on this machine beside the console chat."""
    if settings.web_base_url:
        return settings.web_base_url.rstrip("/")
    return f"http://127.0.0.1:{settings.web_port}" if console else ""


async def bootstrap_organizers(app: App) -> None:
    """Accounts listed in BOT_ORGANIZERS become organizers (created if they never wrote to the bot)."""
    now = app.clock()
    async with app.uow_factory() as uow:
        for channel, external_id in app.settings.organizer_accounts():
            user = await uow.users.by_account(channel, external_id)
            if user is None:
                user = await uow.users.create(channel, external_id, external_id, "vi", now, role=Role.ORGANIZER)
            if user.role != Role.ORGANIZER:
                await uow.users.update(user.id, role=Role.ORGANIZER)
                await uow.audit.add(None, "role.bootstrap", f"user:{user.id}", {"role": Role.ORGANIZER.value}, now)
        await uow.commit()


@contextlib.asynccontextmanager
async def oa_token_source(
    settings: Settings, clock: Clock = utc_now, *, check: bool = True, hook: Hook | None = None
) -> AsyncIterator[tuple[OATokenStore, ZaloOAuth]]:
    """The Zalo OA's token store (the zalo_oa channel's `OATokenSource`) and its OAuth client, from ZALO_OA_*;
    with `check`, OATokenKeyError when ZALO_OA_TOKEN_KEY does not open the stored tokens."""
    s, app_id = settings, settings.zalo_oa_app_id or ""
    cipher = TokenCipher(s.zalo_oa_token_key.get_secret_value() if s.zalo_oa_token_key else None)
    secret = s.zalo_oa_app_secret.get_secret_value() if s.zalo_oa_app_secret else ""
    oauth, rows = ZaloOAuth(s.zalo_oa_oauth_base, app_id, secret), runtime_sql.SqlOATokenRows(s.database_url)
    try:
        store = OATokenStore(rows, app_id, cipher, oauth.refresh, clock, hook=hook)
        if check:
            await store.check()
        yield store, oauth
    finally:
        await rows.aclose()
        await oauth.aclose()


@contextlib.asynccontextmanager
async def _oa_cli(args: argparse.Namespace) -> AsyncIterator[oa_cli.Deps]:
    s = Settings()
    needed = {"ZALO_OA_APP_ID": s.zalo_oa_app_id, "ZALO_OA_APP_SECRET": s.zalo_oa_app_secret}
    oa_cli.require({**needed, "ZALO_OA_TOKEN_KEY": s.zalo_oa_token_key, "ZALO_OA_REDIRECT_URI": s.zalo_oa_redirect_uri})
    await upgrade_async(s.database_url)
    async with oa_token_source(s, check=False) as (store, oauth):
        url = partial(permission_url, s.zalo_oa_oauth_base, store.app_id, s.zalo_oa_redirect_uri)
        yield oa_cli.Deps(store, oauth.exchange, url, utc_now, store.app_id)


# --- the running bot ----------------------------------------------------------------------------------------


def channel_runs(app: App, names: list[str]) -> dict[str, ChannelRun]:
    """The platform channels to run, each with its settings and the narrow dependencies it uses."""
    available: dict[str, Callable[[asyncio.Event, Any], Any]] = {
        "telegram": lambda stop, on_ready: telegram.run(app.settings, app.channel_deps(), stop, on_ready),
        "zalo": lambda stop, on_ready: zalo.run(app.settings, app.channel_deps(), stop, on_ready),
        "zalo_oa": lambda stop, on_ready: _run_zalo_oa(app, stop, on_ready),
    }
    return {name: available[name] for name in names}


async def _run_zalo_oa(app: App, stop: asyncio.Event, on_ready: Any) -> None:
    async with app.oa_token_source() as tokens:
        await zalo_oa.run(app.settings, app.channel_deps(), tokens, app.oa_followers(), stop, on_ready)


def jobs(
    app: App,
    notice_seconds: float,
    make_sender: Callable[[dict[str, Transport]], BroadcastSender] | None = None,
) -> Callable[[dict[str, Transport]], list[Job]]:
    """The background jobs, once the channels' transports are known: the broadcast sender (one per process;
    several processes are safe on PostgreSQL) and the notices."""

    def make(transports: dict[str, Transport]) -> list[Job]:
        sender = make_sender(transports) if make_sender else app.broadcast_sender(transports)
        running = [
            Job("broadcast sender", sender.run, cancel_on_stop=True),
            Job(
                "notices",
                lambda stop: notices_loop(app.uow_factory, app.clock, transports, stop, notice_seconds),
            ),
        ]
        if app.env.web_base_url:
            s = app.settings
            running.append(Job("web console", partial(run_web, app.web_deps(), s.web_host, s.web_port)))
        return running

    return make


async def serve_app(
    app: App,
    channels: list[str],
    stop: asyncio.Event,
    *,
    notice_seconds: float = 10.0,
    make_sender: Callable[[dict[str, Transport]], BroadcastSender] | None = None,
) -> None:
    """What `python -m bot run` runs with platform channels: every channel and job until `stop`."""
    startup = [lambda: contests_jobs.reconcile(app.uow_factory, app.clock)]
    await serve(channel_runs(app, channels), startup, jobs(app, notice_seconds, make_sender), stop)


def _setup_logging(settings: Settings, level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_redaction(settings)  # also keeps SQL and request lines (user data, tokens) out of the logs


def _channels(settings: Settings, wanted: list[str] | None) -> list[str]:
    if wanted:
        return wanted
    found = [
        name
        for name, token in (
            ("telegram", settings.telegram_bot_token),
            ("zalo", settings.zalo_bot_token),
            ("zalo_oa", settings.zalo_oa_app_id),
        )
        if token is not None
    ]
    return found or ["console"]


async def _run(settings: Settings, channels: list[str]) -> None:
    if "zalo_oa" in channels:  # no OA channel without the key its tokens are stored with: say so, start nothing
        try:
            TokenCipher(settings.zalo_oa_token_key.get_secret_value() if settings.zalo_oa_token_key else None)
        except OATokenKeyError as exc:
            raise SystemExit(str(exc)) from None
    await upgrade_async(settings.database_url)
    console = channels == ["console"]
    if console and not settings.web_base_url:
        settings = settings.model_copy(update={"web_base_url": web_base_url(settings, console=True)})
    app = build_app(settings)
    try:
        await bootstrap_organizers(app)
        if console:
            info = await seed_demo(app.uow_factory, app.clock)
            runners: list[Any] = []
            banner = "\n".join(
                [
                    "antt-bot – chế độ thử trên màn hình (console)",
                    f"Trường thử nghiệm: lớp {info.class_name}, mã lớp: {info.class_code}",
                    USER_HELP,
                    f"Tệp bot gửi (kết quả, giấy khen, báo cáo, danh sách) được lưu vào: {settings.console_outbox}",
                    await console_web_line(app, runners),
                    "Bắt đầu bằng cách gõ /start",
                ]
            )
            try:
                await run_console(app.dispatcher, banner, output=app.console_output())
            finally:
                for runner in runners:
                    await runner.cleanup()
            return
        settle_heap()
        # One stop event for every channel and job: SIGTERM/SIGINT stop them all, each finishing its work in hand.
        stop = asyncio.Event()
        with stop_on_signals(stop):
            await serve_app(app, channels, stop, notice_seconds=settings.contest_notice_seconds)
    finally:
        await app.close()


async def console_web_line(app: App, runners: list[Any]) -> str:
    """Start the web console beside the console chat; the banner line with the demo organizer's sign-in link,
    or why it did not start (the port is taken: the chat works all the same)."""
    s = app.settings
    try:
        runners.append(await start_web(app.web_deps(), s.web_host, s.web_port))
    except OSError:
        return f"Trang quản lý trên web không mở được: cổng {s.web_port} đang bận (đặt WEB_PORT khác)."
    return f"Trang quản lý trên web (ban tổ chức thử nghiệm): {await demo_sign_in(app)}"


async def demo_sign_in(app: App) -> str:
    """A one-time sign-in link to the web console for the demo organizer (console mode)."""
    async with app.uow_factory() as uow:
        organizer = await uow.users.by_account("console", "btc")
        if organizer is None:
            return ""
        link = await sign_in_link(uow, organizer, app.env.web_base_url, app.clock())
        await uow.commit()
    return link


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings()
    channels = _channels(settings, args.channel)
    _setup_logging(settings, settings.log_level if channels != ["console"] else "WARNING")
    try:
        asyncio.run(_run(settings, channels))
    except KeyboardInterrupt:
        pass
    return 0


# --- the command line ---------------------------------------------------------------------------------------


def app_opener(
    make: Callable[[App], contextlib.AbstractAsyncContextManager[Any]],
    *,
    migrate: bool = True,
    needs_content: bool = True,
) -> Callable[[argparse.Namespace], contextlib.AbstractAsyncContextManager[Any]]:
    """A command group's dependencies, built for one command: the database (on `--database-url` when the command
    has one), migrated first unless `migrate` is False; the content only when `needs_content` (maintenance
    must work while the lessons are being edited)."""

    @contextlib.asynccontextmanager
    async def open_deps(args: argparse.Namespace) -> AsyncIterator[Any]:
        settings = Settings()
        if getattr(args, "database_url", None):
            settings = settings.model_copy(update={"database_url": args.database_url})
        if migrate:
            await upgrade_async(settings.database_url)
        content = None if needs_content else Content(root=settings.content_dir)
        app = build_app(settings, content=content)
        try:
            async with make(app) as deps:
                yield deps
        finally:
            await app.close()

    return open_deps


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    upgrade(Settings().database_url)
    print("Cơ sở dữ liệu đã ở phiên bản mới nhất.")
    return 0


async def _seed(settings: Settings) -> None:
    await upgrade_async(settings.database_url)
    app = build_app(settings)
    try:
        info = await seed_demo(app.uow_factory, app.clock)
        print(f"Trường thử nghiệm đã sẵn sàng. Lớp {info.class_name}, mã lớp: {info.class_code}")
    finally:
        await app.close()


class _VietnameseHelp(argparse.HelpFormatter):
    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "Cách dùng: " if prefix is None else prefix)


# argparse's own messages, as an operator at the terminal reads them (the patterns of Python 3.11–3.13).
_ARGPARSE_ERRORS = (
    (re.compile(r"^the following arguments are required: (.*)$"), "thiếu tham số bắt buộc: {0}"),
    (re.compile(r"^argument (.+?): invalid choice: (.+?) \(choose from (.*)\)$"), "{0}: không có {1} (chọn: {2})"),
    (re.compile(r"^argument (.+?): invalid (\w+) value: (.*)$"), "{0}: giá trị không hợp lệ: {2}"),
    (re.compile(r"^argument (.+?): expected one argument$"), "{0}: cần một giá trị"),
    (re.compile(r"^argument (.+?): not allowed with argument (.*)$"), "{0}: không dùng cùng {1}"),
    (re.compile(r"^unrecognized arguments: (.*)$"), "không hiểu: {0}"),
)


class VietnameseArgumentParser(argparse.ArgumentParser):
    """The command line's own words in Vietnamese too: usage, section titles, -h and error messages (subcommands
    inherit the class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        kwargs.setdefault("formatter_class", _VietnameseHelp)
        kwargs["add_help"] = False  # our own -h, with a Vietnamese line
        super().__init__(*args, **kwargs)
        self._positionals.title = "lệnh và tham số"
        self._optionals.title = "tùy chọn"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="xem hướng dẫn này")

    def error(self, message: str) -> NoReturn:
        for pattern, text in _ARGPARSE_ERRORS:
            if found := pattern.match(message):
                parts = list(found.groups())
                if parts and (parts[0] == "cmd" or parts[0].endswith("_cmd")):
                    parts[0] = "lệnh"  # the subcommand's internal name
                message = text.format(*parts)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: lỗi: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = VietnameseArgumentParser(prog="python -m bot", description="antt-bot: trợ lý học pháp luật cho trường học")
    sub = parser.add_subparsers(dest="cmd", required=True)

    run = sub.add_parser("run", help="chạy bot (không có token: chế độ console với trường thử nghiệm)")
    run.add_argument(
        "--channel",
        action="append",
        choices=["telegram", "zalo", "zalo_oa", "console"],
        help="kênh chạy (có thể lặp lại); mặc định: các kênh có token, hoặc console",
    )
    run.set_defaults(func=cmd_run)

    db = sub.add_parser("db", help="cơ sở dữ liệu")
    db_sub = db.add_subparsers(dest="db_cmd", required=True)
    db_sub.add_parser("upgrade", help="áp dụng mọi migration").set_defaults(func=cmd_db_upgrade)

    content_cli.register(sub, content_dir=lambda: Settings().content_dir)

    seed = sub.add_parser("seed", help="dữ liệu mẫu")
    s_sub = seed.add_subparsers(dest="seed_cmd", required=True)
    s_sub.add_parser("demo", help="tạo trường thử nghiệm").set_defaults(func=lambda _a: asyncio.run(_seed(Settings())))

    i18n = sub.add_parser("i18n", help="bản dịch (Babel)")
    i_sub = i18n.add_subparsers(dest="i18n_cmd", required=True)
    for name, text in (
        ("extract", "trích chuỗi ra messages.pot và cập nhật .po"),
        ("compile", "biên dịch .po ra .mo"),
        ("check", "liệt kê chuỗi chưa dịch; mã thoát 1 nếu còn chuỗi chưa dịch"),
    ):
        i_sub.add_parser(name, help=text).set_defaults(func=lambda args: i18n_tools.main(args.i18n_cmd))

    # The features' command groups.
    contests_cli.register(sub, app_opener(App.contest_cli))
    broadcasts_cli.register(sub, app_opener(App.broadcast_cli))  # `class ...` and `broadcast ...`
    reports_cli.register(sub, app_opener(App.report_cli, migrate=False))
    privacy_cli.register(sub, app_opener(App.privacy_cli, needs_content=False))
    oa_cli.register(sub, _oa_cli)  # `zalo-oa authorize | status`
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # `python -m bot.app` works like `python -m bot`
    sys.exit(main())


def main_exit() -> None:
    """The `antt-bot` command installed in the virtual environment."""
    sys.exit(main())
