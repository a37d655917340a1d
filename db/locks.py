"""Single-instance locks: a PostgreSQL advisory lock when the database is PostgreSQL (works across hosts),
else an exclusive file lock next to the SQLite database (one host, which is all SQLite supports)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


class AlreadyRunning(RuntimeError):
    pass


def _open_lock_file(database: str | None, name: str) -> int:
    folder = Path(database).resolve().parent if database and database != ":memory:" else Path("data")
    folder.mkdir(parents=True, exist_ok=True)
    return os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)


@contextlib.asynccontextmanager
async def single_instance(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """Hold the lock `name` while the block runs; raises AlreadyRunning when another process holds it."""
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
            if not got:
                raise AlreadyRunning(name)
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        return
    fd = _open_lock_file(engine.url.database, name)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(name) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
