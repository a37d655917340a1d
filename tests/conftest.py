"""Shared fixtures: test content, a database per test (SQLite always, PostgreSQL when it answers), the app."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import App, build_app
from bot.config import Settings
from bot.content.loader import Content, load_content
from bot.core.context import CoreSettings
from db.base import Base
from db.session import create_engine
from tests.fakes.content import write_test_content

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
# Scripted chats (in process and in the bot subprocesses the tests start) send events far faster than a child
# can tap; the per-account flood limit has its own tests (tests/reliability/test_abuse.py), which turn it on.
os.environ.setdefault("FLOOD_EVENTS", "0")


class FakeClock:
    """A clock the test moves by hand. Starts on 2026-11-28 09:00 in Vietnam."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


def _postgres_answers() -> bool:
    async def probe() -> bool:
        engine = create_engine(PG_ADMIN_URL)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("select 1"))
            return True
        except Exception:
            return False
        finally:
            await engine.dispose()

    return asyncio.run(probe())


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    ok = _postgres_answers()
    if not ok and REQUIRE_POSTGRES:
        pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL does not answer at {PG_ADMIN_URL}")
    return ok


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


async def _pg_exec(sql: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture
def pg_database(postgres_available: bool) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not postgres_available:
        pytest.skip("PostgreSQL does not answer")
    name = f"antt_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("pg_database")


@pytest.fixture(scope="session")
def test_content(tmp_path_factory: pytest.TempPathFactory) -> Content:
    root = write_test_content(tmp_path_factory.mktemp("content") / "content")
    content = load_content(root)
    assert content.ok, content.errors
    return content


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def app(database_url: str, test_content: Content, clock: FakeClock) -> AsyncIterator[App]:
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    application = build_app(settings, clock=clock, content=test_content, core_settings=CoreSettings())
    async with application.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    try:
        yield application
    finally:
        await application.close()


DB_FIXTURES = frozenset({"database_url", "app", "pg_database", "postgres_available"})
# Folders whose tests start subprocesses, servers or whole bots: not part of the unit layer (`make test-fast`).
SLOW_FOLDERS = frozenset({"e2e", "cli"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that touches a database is marked `db`; the end-to-end and command-line tests `slow`."""
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
        if SLOW_FOLDERS & set(Path(str(item.fspath)).parts):
            item.add_marker(pytest.mark.slow)
