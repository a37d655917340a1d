"""`alembic upgrade head` works on an empty database, and the migrations build exactly what the models say."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from db.base import Base
from db.migrate import upgrade
from db.session import create_engine


async def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn):  # type: ignore[no-untyped-def]
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(ctx, Base.metadata)

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def test_upgrade_from_empty_and_models_agree(database_url: str) -> None:
    upgrade(database_url)
    tables = asyncio.run(_tables(database_url))
    assert set(Base.metadata.tables) <= tables and "alembic_version" in tables
    assert asyncio.run(_diff(database_url)) == []
    upgrade(database_url)  # a second run is a no-op


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        assert (mode, fks) == ("wal", 1) and timeout >= 5000
    finally:
        await engine.dispose()


async def test_concurrent_writers_on_sqlite_never_see_database_is_locked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        await conn.execute(text("INSERT INTO counter VALUES (0)"))

    async def bump() -> None:
        async with engine.begin() as conn:
            n = (await conn.execute(text("SELECT n FROM counter"))).scalar_one()
            await asyncio.sleep(0)
            await conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    await asyncio.gather(*(bump() for _ in range(50)))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT n FROM counter"))).scalar_one() == 50
    await engine.dispose()
