"""The unit of work: one session and one transaction per handled event; it alone commits.

It knows no repository by name: the composition root (`bot/app.py`) hands it the factories, one per attribute
the features' unit-of-work protocols name (`users`, `contests`, ...). Each repository is made the first time a
unit of work uses it, so an event pays only for the repositories it touches."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

RepositoryFactory = Callable[[AsyncSession], Any]


class SqlAlchemyUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], repositories: Mapping[str, RepositoryFactory]):
        self._sessions = sessions
        self._repositories = repositories
        self.session: AsyncSession | None = None

    def __getattr__(self, name: str) -> Any:
        # Called only for attributes not set yet: a repository's first use in this unit of work.
        make = self.__dict__.get("_repositories", {}).get(name)
        session = self.__dict__.get("session")
        if make is None or session is None:
            raise AttributeError(name)
        repository = make(session)
        setattr(self, name, repository)
        return repository

    async def __aenter__(self) -> SqlAlchemyUnitOfWork:
        self.session = self._sessions()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self.session is not None
        try:
            await self.session.rollback()  # anything not committed is dropped
        finally:
            await self.session.close()
            self.session = None
            for name in self._repositories:
                self.__dict__.pop(name, None)

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
    """Callable that builds a fresh unit of work; passed to every part from the composition root."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], repositories: Mapping[str, RepositoryFactory]
    ) -> None:
        self.sessions = sessions
        self.repositories = dict(repositories)

    def __call__(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.sessions, self.repositories)
