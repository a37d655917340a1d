"""Long reads on a SQLite file run on connections of their own: they see one snapshot, hold no write lock (the
bot's writer goes on meanwhile) and cannot write."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import OperationalError

from db import models as m
from db.base import Base
from db.session import create_engine, create_read_engine

pytestmark = pytest.mark.db
NOW = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)


async def test_a_long_read_holds_no_write_lock_and_cannot_write(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'read.db'}"
    writer, reader = create_engine(url), create_read_engine(url)
    assert reader is not None
    try:
        async with writer.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            await conn.execute(insert(m.School), [{"name": "Trường A", "created_at": NOW}])
        async with reader.connect() as read:
            await read.begin()
            assert (await read.execute(select(func.count()).select_from(m.School))).scalar_one() == 1
            # The read's transaction is still open: the writer commits beside it, at once.
            async with asyncio.timeout(5):
                async with writer.begin() as conn:
                    await conn.execute(insert(m.School), [{"name": "Trường B", "created_at": NOW}])
            assert (await read.execute(select(func.count()).select_from(m.School))).scalar_one() == 1  # its snapshot
            with pytest.raises(OperationalError, match="readonly"):
                await read.execute(text("DELETE FROM schools"))
            await read.rollback()
        async with writer.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(m.School))).scalar_one() == 2
    finally:
        await reader.dispose()
        await writer.dispose()


def test_elsewhere_the_reads_share_the_pool() -> None:
    assert create_read_engine("sqlite://") is None
    assert create_read_engine("postgresql://postgres@127.0.0.1/test") is None
