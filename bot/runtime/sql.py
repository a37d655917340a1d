"""The runtime's SQL: the inbox (every update stored once before it is acknowledged, then handled, then done)
and the Zalo OA's sealed OAuth tokens."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.runtime.oa_token_store import InFlight, OATokenRow
from bot.runtime.ports import InboxRow
from db import locks, models_oa
from db import models as m
from db.session import create_engine
from db.sql import SqlRepository, hot, p, rowcount, sql_statement

_inbox: Table = m.InboundUpdate.__table__  # type: ignore[assignment]
FORGOTTEN = "…"  # what stands in a stored update for text it must not keep


def _without(value: Any, text: str) -> Any:
    """`value` (a JSON document) with every string that holds `text` replaced by FORGOTTEN."""
    if isinstance(value, dict):
        return {k: _without(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, text) for v in value]
    if isinstance(value, str) and text.strip() and text.strip() in value:
        return FORGOTTEN
    return value


_MARK_HANDLED = hot(
    update(_inbox)
    .where(_inbox.c.id == p("inbox_id"), _inbox.c.status == "pending")
    .values(status="handled", replies=p("b_replies", type_=_inbox.c.replies.type), handled_at=p("now"))
)


_MARK_DONE = (
    update(_inbox)
    .where(_inbox.c.id.in_(p("ids", expanding=True)))
    .values(status="done", processed_at=p("now"), replies=None)
)


_STORE_UPDATE = hot(
    sql_statement(
        "INSERT INTO inbound_updates (channel, bot_id, external_id, payload, status, attempts, received_at)"
        " VALUES (:channel, :bot_id, :external_id, :payload, 'pending', 0, :now)"
        " ON CONFLICT (channel, bot_id, external_id) DO NOTHING RETURNING id",
        _inbox,
        returning=_inbox.c.id,
        now="received_at",
    )
)


class SqlInboxRepository(SqlRepository):
    """The inbox of inbound updates: stored once per key before acknowledging, then handled, then sent."""

    async def store(
        self, channel: str, bot_id: str, external_id: str, payload: dict[str, Any], now: dt.datetime
    ) -> int | None:
        """Insert the update; returns its id, or None when the same update was stored before."""
        params = {"channel": channel, "bot_id": bot_id, "external_id": external_id, "payload": payload, "now": now}
        return (await self.session.execute(_STORE_UPDATE, params)).scalar_one_or_none()

    async def mark_handled(self, inbox_id: int, replies: list[dict[str, Any]], now: dt.datetime) -> bool:
        """False when the update was already handled: the caller must then roll back its changes."""
        result = await self.session.execute(_MARK_HANDLED, {"inbox_id": inbox_id, "b_replies": replies, "now": now})
        return bool(rowcount(result))

    async def forget_text(self, inbox_id: int, text: str) -> None:
        row = await self.session.get(m.InboundUpdate, inbox_id)
        if row is not None:
            row.payload = _without(row.payload, text)

    async def mark_done_many(self, inbox_ids: list[int], now: dt.datetime) -> None:
        await self.session.execute(_MARK_DONE, {"ids": list(inbox_ids), "now": now})

    async def fail(self, inbox_id: int, error: str, max_attempts: int, now: dt.datetime) -> str:
        row = await self.session.get(m.InboundUpdate, inbox_id)
        if row is None:
            return "missing"
        row.attempts += 1
        row.error = error[:500]
        if row.attempts >= max_attempts:
            row.status, row.processed_at = "dead", now
        return row.status

    async def unfinished(
        self,
        channel: str,
        bot_id: str,
        limit: int = 500,
        after_id: int = 0,
        received_before: dt.datetime | None = None,
    ) -> list[InboxRow]:
        rows = (
            await self.session.execute(
                select(m.InboundUpdate)
                .where(
                    m.InboundUpdate.channel == channel,
                    m.InboundUpdate.bot_id == bot_id,
                    m.InboundUpdate.status.in_(("pending", "handled")),
                    m.InboundUpdate.id > after_id,
                    *([m.InboundUpdate.received_at < received_before] if received_before is not None else []),
                )
                .order_by(m.InboundUpdate.id)
                .limit(limit)
            )
        ).scalars()
        return [InboxRow(r.id, dict(r.payload), r.status, list(r.replies) if r.replies else None) for r in rows]


# --- the Zalo OA's OAuth tokens (bot/runtime/oa_token_store.py) ----------------------------------------------

_oa_tokens: Table = models_oa.OAToken.__table__  # type: ignore[assignment]
_oa_refreshes: Table = models_oa.OATokenRefresh.__table__  # type: ignore[assignment]
_OA_COLUMNS = [c.name for c in _oa_tokens.c if c.name != "id"]
_OA_BEGIN_REFRESH = sql_statement(
    "INSERT INTO oa_token_refreshes (app_id, generation, started_at) VALUES (:app_id, :generation, :started_at)"
    " ON CONFLICT (app_id) DO UPDATE SET generation = excluded.generation, started_at = excluded.started_at",
    _oa_refreshes,
)


def _oa_row(row: Any) -> OATokenRow | None:
    return None if row is None else OATokenRow(**{k: row._mapping[k] for k in _OA_COLUMNS})


class _OARefreshLock:
    """The refresh lock's transaction: reads under the lock, the write-ahead record, the committed write."""

    def __init__(self, engine: AsyncEngine, conn: AsyncConnection, app_id: str, row: OATokenRow | None) -> None:
        self.engine, self.conn, self.app_id, self.row = engine, conn, app_id, row
        self.in_flight: InFlight | None = None

    async def read_in_flight(self) -> None:
        found = (await self.conn.execute(select(_oa_refreshes).where(_oa_refreshes.c.app_id == self.app_id))).first()
        self.in_flight = None if found is None else InFlight(found.generation, found.started_at)

    async def begin_refresh(self, generation: int, now: dt.datetime) -> None:
        values = {"app_id": self.app_id, "generation": generation, "started_at": now}
        if self.engine.dialect.name != "postgresql":  # SQLite: the file lock is held; a short transaction
            await self.conn.execute(_OA_BEGIN_REFRESH, values)
            await self.conn.commit()
            return
        # On a connection of its own, committed now: the lock's transaction stays open.
        async with self.engine.begin() as other:
            await other.execute(_OA_BEGIN_REFRESH, values)

    async def store(self, row: OATokenRow) -> None:
        values = {k: getattr(row, k) for k in _OA_COLUMNS}
        if self.row is None:
            await self.conn.execute(insert(_oa_tokens).values(values))
        else:
            await self.conn.execute(update(_oa_tokens).where(_oa_tokens.c.app_id == self.app_id).values(values))
        await self.conn.execute(delete(_oa_refreshes).where(_oa_refreshes.c.app_id == self.app_id))
        await self.conn.commit()
        self.row, self.in_flight = row, None


class SqlOATokenRows:
    """The sealed pairs, on an engine of their own (a refresh holds a connection while Zalo answers). The refresh
    lock is the row lock (`SELECT ... FOR UPDATE`) on PostgreSQL, held by the transaction that writes the new
    pair; on SQLite an exclusive file lock beside the database (one host), with short write transactions:
    SQLite's one write lock held through an HTTP call would stall every writer of the bot meanwhile."""

    def __init__(self, database_url: str, lock_timeout: float = 60.0) -> None:
        self.engine = create_engine(database_url, fast_path=False, **_small_pool(database_url))
        self.lock_timeout = lock_timeout

    async def aclose(self) -> None:
        await self.engine.dispose()

    async def read(self, app_id: str) -> OATokenRow | None:
        async with self.engine.connect() as conn:
            return _oa_row((await conn.execute(select(_oa_tokens).where(_oa_tokens.c.app_id == app_id))).first())

    async def in_flight(self, app_id: str) -> InFlight | None:
        async with self.engine.connect() as conn:
            lock = _OARefreshLock(self.engine, conn, app_id, None)
            await lock.read_in_flight()
            return lock.in_flight

    @contextlib.asynccontextmanager
    async def refreshing(self, app_id: str) -> AsyncIterator[_OARefreshLock]:
        postgres = self.engine.dialect.name == "postgresql"
        async with contextlib.AsyncExitStack() as stack:
            if not postgres:
                await stack.enter_async_context(
                    locks.file_lock(self.engine.url.database, f"oa-token-{app_id}", self.lock_timeout)
                )
            conn = await stack.enter_async_context(self.engine.connect())
            query = select(_oa_tokens).where(_oa_tokens.c.app_id == app_id)
            await conn.begin()
            try:
                row = _oa_row((await conn.execute(query.with_for_update() if postgres else query)).first())
                lock = _OARefreshLock(self.engine, conn, app_id, row)
                await lock.read_in_flight()
                if not postgres:
                    await conn.commit()  # SQLite: the file lock is the refresh lock; writes are short
                yield lock
            finally:
                if conn.in_transaction():
                    await conn.rollback()


def _small_pool(database_url: str) -> dict[str, Any]:
    return {} if "sqlite" in database_url else {"pool_size": 2, "max_overflow": 2}
