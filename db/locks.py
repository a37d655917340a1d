"""Single-instance locks: a PostgreSQL advisory lock when the database is PostgreSQL (works across hosts),
else an exclusive file lock next to the SQLite database (one host, which is all SQLite supports)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import time
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


@contextlib.asynccontextmanager
async def file_lock(database: str | None, name: str, wait_seconds: float) -> AsyncIterator[None]:
    """Hold the exclusive file lock `name` beside the SQLite database, waiting for it (without blocking the event
    loop) up to `wait_seconds`; TimeoutError after that. Each call opens its own descriptor, so two holders in
    one process exclude each other too, and a killed holder's lock is released by the kernel."""
    fd = _open_lock_file(database, name)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"lock {name} held for more than {wait_seconds}s") from None
                await asyncio.sleep(0.02)
        yield
    finally:
        os.close(fd)
