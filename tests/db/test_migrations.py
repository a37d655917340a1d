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


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        assert (mode, fks) == ("wal", 1)
    finally:
        await engine.dispose()


async def test_a_write_waits_for_another_process_lock_without_stopping_the_loop(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Another writer (a command-line tool) holds the lock for 0.6 s: our write waits and then succeeds, and
    the event loop keeps running meanwhile (SQLite calls run in the loop's thread, the wait does not)."""
    import sqlite3
    import threading
    import time

    from sqlalchemy import text

    path = tmp_path / "x.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")
        threading.Timer(0.6, lambda: other.execute("COMMIT")).start()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))
        waited = time.monotonic() - started
        ticker.cancel()
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT x FROM t ORDER BY x"))).scalars().all()
        other.close()
        assert rows == [1, 2]
        assert waited >= 0.5
        assert ticks >= 20  # the loop ran about every 10 ms while the write waited
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


def test_the_published_results_migration_goes_down_and_up_again(database_url: str) -> None:
    from alembic import command

    from db.migrate import alembic_config

    frozen = {"published_rounds", "published_results", "published_units"}
    upgrade(database_url)
    assert frozen <= asyncio.run(_tables(database_url))
    command.downgrade(alembic_config(database_url), "published_results@-1")
    left = asyncio.run(_tables(database_url))
    assert not frozen & left and {"contest_rounds", "contest_entries", "users", "broadcasts"} <= left
    upgrade(database_url)
    assert frozen <= asyncio.run(_tables(database_url))
    assert asyncio.run(_diff(database_url)) == []
