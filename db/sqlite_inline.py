"""An asyncio SQLite connection whose calls run in the event loop's own thread.

SQLAlchemy's aiosqlite driver sends every call (cursor, execute, fetch, close) to a worker thread and back:
about 50 thread round trips per handled update, each waking the loop through its self-pipe, which was half
the bot's CPU. The bot's database work is a few small indexed statements in one transaction on one writer
connection, each taking microseconds, so running them in the loop's thread costs less than the hop.

What could block the loop is waiting for the write lock another process holds (a command-line tool, a
second bot on the same file). So the connection's own busy timeout is short, and a statement that still
finds the database locked is retried after an asyncio sleep, with a total wait of `busy_timeout` seconds, as
SQLite's busy handler would, but without stopping the loop. A statement refused as busy made no change, so
trying it again is safe.

Plugged in through SQLAlchemy's documented `async_creator`; the aiosqlite dialect wraps it as it wraps
aiosqlite (it only needs these coroutine methods)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any

# The longest the loop may be held by SQLite's own busy handler before we wait asynchronously instead.
INLINE_BUSY_MS = 5


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


class _Calls:
    """Stands in for aiosqlite's request queue: SQLAlchemy sets the isolation level by putting
    `(future, function)` on `_tx`; here the function runs at once."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except Exception as exc:  # handed to the awaiting caller, as aiosqlite does
            future.set_exception(exc)
        else:
            future.set_result(result)


class InlineCursor:
    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        await self._connection._run(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        await self._connection._run(self._cursor.executemany, sql, list(parameters))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection, busy_timeout: float) -> None:
        self._conn = conn
        self._tx = _Calls()
        self.busy_timeout = busy_timeout

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        deadline = None
        pause = 0.002
        while True:
            try:
                return function(*args)
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
                now = time.monotonic()
                deadline = deadline or now + self.busy_timeout
                if now >= deadline:
                    raise
                await asyncio.sleep(min(pause, deadline - now))
                pause = min(pause * 2, 0.1)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    async def run(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        """Runs one statement and returns the plain sqlite3 cursor (db/fast.py reads it)."""
        cursor = self._conn.cursor()
        await self._run(cursor.execute, sql, parameters)
        return cursor

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        cursor = await self.cursor()
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        await self._run(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    def stop(self) -> None:
        self._conn.close()


def creator(path: str, busy_timeout: float) -> Callable[[], Any]:
    """The `async_creator` for `create_async_engine`."""

    async def connect() -> InlineConnection:
        conn = sqlite3.connect(
            path,
            timeout=INLINE_BUSY_MS / 1000,
            detect_types=0,
            check_same_thread=False,  # the pool may close it from another thread at exit
            isolation_level=None,
        )
        return InlineConnection(conn, busy_timeout)

    return connect
