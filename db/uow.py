"""The unit of work: one session and one transaction per handled event; it alone commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import repositories as r
from db.reports import SqlReportRepository


class SqlAlchemyUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> SqlAlchemyUnitOfWork:
        self.session = s = self._sessions()
        self.users = r.SqlUserRepository(s)
        self.schools = r.SqlSchoolRepository(s)
        self.classes = r.SqlClassRepository(s)
        self.invites = r.SqlInviteRepository(s)
        self.conversations = r.SqlConversationRepository(s)
        self.progress = r.SqlProgressRepository(s)
        self.attempts = r.SqlAttemptRepository(s)
        self.consents = r.SqlConsentRepository(s)
        self.audit = r.SqlAuditRepository(s)
        self.inbox = r.SqlInboxRepository(s)
        self.activity = r.SqlActivityRepository(s)
        self.class_groups = r.SqlClassGroupRepository(s)
        self.directory = r.SqlAccountDirectoryRepository(s)
        self.links = r.SqlAccountLinkRepository(s)
        self.contests = r.SqlContestRepository(s)
        self.rosters = r.SqlRosterRepository(s)
        self.broadcasts = r.SqlBroadcastRepository(s)
        self.reports = SqlReportRepository(s)
        self.parent_links = r.SqlParentLinkRepository(s)
        self.privacy = r.SqlPrivacyRepository(s)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self.session is not None
        try:
            await self.session.rollback()  # anything not committed is dropped
        finally:
            await self.session.close()
            self.session = None

    async def commit(self) -> None:
        assert self.session is not None
        await self.session.commit()

    async def settle(self) -> None:
        assert self.session is not None
        if self.session.dirty or self.session.new or self.session.deleted:
            await self.session.flush()
        self.session.expunge_all()

    async def rollback(self) -> None:
        assert self.session is not None
        await self.session.rollback()


class UnitOfWorkFactory:
    """Callable that builds a fresh unit of work; passed to the core from the composition root."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    def __call__(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.sessions)
