"""The composition root: builds settings, database, content, translations and the dispatcher, once."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.content.loader import Content, load_content
from bot.core.context import CoreSettings
from bot.core.dispatcher import Dispatcher
from bot.core.i18n import I18n
from db.session import create_engine, session_factory
from db.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    uow_factory: UnitOfWorkFactory
    content: Content
    i18n: I18n
    dispatcher: Dispatcher
    clock: Callable[[], dt.datetime]

    async def close(self) -> None:
        await self.engine.dispose()


class ContentError(RuntimeError):
    pass


def build_app(
    settings: Settings | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    content: Content | None = None,
    core_settings: CoreSettings | None = None,
) -> App:
    settings = settings or Settings()
    content = content or load_content(settings.content_dir)
    if not content.ok:
        raise ContentError("content has errors; run `python -m bot content check`:\n" + "\n".join(content.errors[:20]))
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    uow_factory = UnitOfWorkFactory(sessions)
    i18n = I18n()
    core = core_settings or CoreSettings(
        practice_questions=settings.practice_questions,
        invite_ttl_hours=settings.invite_ttl_hours,
        retention_days=settings.retention_days,
        flood_events=settings.flood_events,
        flood_seconds=settings.flood_seconds,
    )
    dispatcher = Dispatcher(uow_factory, content, i18n, clock, core)
    return App(settings, engine, sessions, uow_factory, content, i18n, dispatcher, clock)


async def bootstrap_organizers(app: App) -> None:
    """Accounts listed in BOT_ORGANIZERS become organizers (created if they never wrote to the bot)."""
    now = app.clock()
    async with app.uow_factory() as uow:
        for channel, external_id in app.settings.organizer_accounts():
            user = await uow.users.by_account(channel, external_id)
            if user is None:
                user = await uow.users.create(channel, external_id, external_id, "vi", now, role="organizer")
            if user.role != "organizer":
                await uow.users.update(user.id, role="organizer")
                await uow.audit.add(None, "role.bootstrap", f"user:{user.id}", {"role": "organizer"}, now)
        await uow.commit()
