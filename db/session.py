"""Engine and session factory: SQLite in WAL mode with a busy timeout and IMMEDIATE write transactions,
or PostgreSQL through asyncpg; the same code runs on both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from db import sqlite_inline
from db.fast import FastSession

SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalise_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async drivers."""
    if url.startswith("sqlite:///") or url == "sqlite://":
        return "sqlite+aiosqlite" + url[len("sqlite") :]
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def create_engine(url: str, *, fast_path: bool = True, **kwargs: Any) -> AsyncEngine:
    """`fast_path=False` (DB_FAST_PATH=0) keeps to SQLAlchemy's own drivers and execution: no inline SQLite
    connection (db/sqlite_inline.py), no statements run on the driver (db/fast.py, see `session_factory`)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if parsed.database and parsed.database != ":memory:":
            # One connection: every transaction writes (BEGIN IMMEDIATE), and SQLite has one writer. Waiting for
            # the pool is a fair asyncio queue; waiting on the file lock is SQLite's busy handler, which sleeps
            # and retries and made a burst of concurrent answers many times slower.
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 120)
            if fast_path:
                # SQLite calls run in the loop's thread, without aiosqlite's thread hop per call.
                kwargs.setdefault(
                    "async_creator", sqlite_inline.creator(parsed.database, SQLITE_BUSY_TIMEOUT_MS / 1000)
                )
                engine = create_async_engine(url, **kwargs)
                _configure_sqlite(engine, busy_timeout_ms=sqlite_inline.INLINE_BUSY_MS)
                return engine
            engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
            _configure_sqlite(engine)
            return engine
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    # No ping before each checkout (it was a round trip per transaction, a third of the work of an answer): a
    # connection the server dropped fails its statement, SQLAlchemy discards the pool's connections, and the
    # inbox handles that update again. Connections are renewed every half hour anyway.
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


def create_read_engine(url: str) -> AsyncEngine | None:
    """For long reads (a district's figures, a report) on a SQLite file: connections of their own, in threads
    (aiosqlite), read-only, in deferred transactions that hold no write lock. WAL lets them read their snapshot
    while the bot's one writer goes on, and the event loop is never held by a query that scans millions of rows.
    None elsewhere: PostgreSQL's pool already reads beside the writers, and an in-memory database is one
    connection's own."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    engine = create_async_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, pool_size=2, max_overflow=0, pool_timeout=600
    )

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only=ON")  # a write here is a bug: refused by SQLite itself
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute("BEGIN DEFERRED")  # one snapshot for every statement of the read
        finally:
            cursor.close()

    return engine


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (the driver would start transactions late, as DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        mode = cursor.fetchone()[0]
        if str(mode).lower() not in ("wal", "memory"):
            raise RuntimeError(f"SQLite refused WAL mode (got {mode!r})")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        # Writers take the lock at BEGIN, so a read-then-write never fails with "database is locked". Run on the
        # driver's cursor: through `exec_driver_sql` this one fixed statement cost SQLAlchemy's whole execution
        # path, once per transaction (the inline driver still waits out another process's lock, see
        # db/sqlite_inline.py).
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        finally:
            cursor.close()


def session_factory(engine: AsyncEngine, *, fast_path: bool = True) -> async_sessionmaker[Any]:
    """Sessions of `engine`; with `fast_path`, statements marked `hot` run on the driver directly (db/fast.py)."""
    return async_sessionmaker(
        engine, class_=FastSession if fast_path else AsyncSession, expire_on_commit=False, autoflush=False
    )
