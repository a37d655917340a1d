"""The hot path's prebuilt statements, run straight on the driver's connection (SQLite or asyncpg).

Each contest answer runs about eight small indexed statements. Through `AsyncSession.execute`, each one costs
SQLAlchemy about 110 µs on this project's 2-core machine (a greenlet switch, an execution context, the compiled
cache lookup by a freshly computed cache key, a result object), while SQLite itself needs 10–20 µs: SQLAlchemy
was a third of the bot's CPU per update (`bench/README.md`).

A statement marked with `hot(...)` is compiled once per dialect, and its SQL runs on the session's own
connection, inside the session's own transaction, with the bind and result conversions that SQLAlchemy's types
give for that dialect (datetimes, JSON, booleans), so the rows read are the same: on SQLite on the inline
connection of `db/sqlite_inline.py`; on PostgreSQL through SQLAlchemy's asyncpg adapter, as its cursor would
(the adapter's lock, its lazily started transaction, its prepared statements, its error translation). On any
other driver `FastSession.execute` is plain `AsyncSession.execute`.

Only statements built once at import time are marked; their parameters are all bound (`bindparam`), and
expanding (`IN`) parameters are not supported. The session is created with `autoflush=False` (db/session.py),
so nothing is flushed implicitly before a statement on either path.
"""

from __future__ import annotations

import re
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from db.sqlite_inline import InlineConnection

S = TypeVar("S")

_HOT: set[int] = set()
_REQUIRED = object()
# Called with each statement run on the fast path (SQLAlchemy's cursor events do not see them): the tests and the
# hot-path benchmark that count statements listen here too.
observers: list[Callable[[str], None]] = []


def hot(statement: S) -> S:
    """Marks a module-level statement to run on the fast path where there is one."""
    _HOT.add(id(statement))
    return statement


class _Compiled:
    __slots__ = ("params", "results", "row", "sql")

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.params: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.expanding:
                raise ValueError(f"{name}: expanding parameters are not supported on the fast path")
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            self.params.append((name, _REQUIRED if bind.required else bind.value, process))
        # The columns a SELECT (or a text statement's `.columns()`) reads, or an INSERT/UPDATE's RETURNING.
        exported = getattr(statement, "exported_columns", None)
        columns = list(exported) if exported is not None else []
        keys = list(exported.keys()) if exported is not None and columns else []
        self.row: Any = _row_class(tuple(keys)) if keys else None
        self.results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]

    def args(self, given: dict[str, Any]) -> list[Any]:
        out = []
        for name, default, process in self.params:
            value = given[name] if name in given else default
            if value is _REQUIRED:
                raise KeyError(f"a value is required for the bound parameter {name!r}")
            out.append(process(value) if process is not None else value)
        return out

    def rows(self, raw: list[tuple[Any, ...]]) -> list[Any]:
        if self.row is None:
            return []
        results = self.results
        make = self.row._make
        if not any(results):
            return [make(r) for r in raw]
        return [make([v if p is None else p(v) for p, v in zip(results, r, strict=True)]) for r in raw]


_rows: dict[tuple[str, ...], type] = {}


def _row_class(keys: tuple[str, ...]) -> type:
    """Rows read like SQLAlchemy's: by attribute, by index, and through `_mapping`."""
    if keys not in _rows:
        base = namedtuple("Row", keys)  # type: ignore[misc]
        _rows[keys] = type("Row", (base,), {"__slots__": (), "_mapping": property(lambda self: self._asdict())})
    return _rows[keys]


_compiled: weakref.WeakKeyDictionary[Dialect, dict[int, _Compiled]] = weakref.WeakKeyDictionary()


def _compile(statement: Any, dialect: Dialect) -> _Compiled:
    per_dialect = _compiled.get(dialect)
    if per_dialect is None:
        per_dialect = _compiled[dialect] = {}
    found = per_dialect.get(id(statement))
    if found is None:
        found = per_dialect[id(statement)] = _Compiled(statement, dialect)
    return found


class FastResult:
    """The part of SQLAlchemy's `Result` the repositories use on these statements."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows, self.rowcount = rows, rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def all(self) -> Sequence[Any]:
        return self._rows

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            from sqlalchemy.exc import MultipleResultsFound, NoResultFound

            raise (NoResultFound if not self._rows else MultipleResultsFound)("expected exactly one row")
        return self._rows[0][0]

    def scalar_one_or_none(self) -> Any:
        if len(self._rows) > 1:
            from sqlalchemy.exc import MultipleResultsFound

            raise MultipleResultsFound("expected at most one row")
        return self._rows[0][0] if self._rows else None


class FastSession(AsyncSession):
    """An `AsyncSession` that runs statements marked `hot` on the session's driver connection directly."""

    async def execute(self, statement: Any, params: Any = None, **kw: Any) -> Any:  # type: ignore[override]
        if id(statement) not in _HOT or kw or not (params is None or isinstance(params, dict)):
            return await super().execute(statement, params, **kw)
        driver = await self._driver()
        if driver is None:
            return await super().execute(statement, params, **kw)
        compiled = _compile(statement, self.bind.dialect)  # type: ignore[union-attr]
        for observe in observers:
            observe(compiled.sql)
        args = compiled.args(params or {})
        dialect = self.bind.dialect  # type: ignore[union-attr]
        try:
            if isinstance(driver, InlineConnection):
                raw, rowcount = await _run_inline(driver, compiled.sql, args)
            else:
                raw, rowcount = await _run_asyncpg(driver, compiled.sql, args, dialect)
        except dialect.loaded_dbapi.Error as error:
            # SQLAlchemy's own handling, as if its cursor had failed: the error wrapped as it would be (an
            # IntegrityError is SQLAlchemy's IntegrityError on both paths), and on a lost connection (a server
            # restart) the pool's connections invalidated, so the next transaction gets a fresh one (the pool does
            # not ping before checkout).
            connection = await self.connection()
            failure = (error, compiled.sql, tuple(args), None, None)
            await connection.run_sync(lambda c: c._handle_dbapi_exception(*failure))
            raise  # not reached: the handler raises
        return FastResult(compiled.rows(raw), rowcount)

    async def _driver(self) -> Any:
        """The inline SQLite connection, or SQLAlchemy's asyncpg adapter, of this session's current transaction,
        which this begins if need be (BEGIN IMMEDIATE on SQLite, see db/session.py; on PostgreSQL the adapter
        starts the transaction with the first statement); None on other drivers."""
        tx = self.sync_session.get_transaction()
        cached = self.info.get("_inline")
        if tx is not None and cached is not None and cached[0] is tx:
            return cached[1]
        connection = await self.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        found: Any = None
        if isinstance(driver, InlineConnection):
            found = driver
        elif _asyncpg_adapter is not None and isinstance(raw.dbapi_connection, _asyncpg_adapter):
            found = raw.dbapi_connection
        self.info["_inline"] = (self.sync_session.get_transaction(), found)
        return found


_asyncpg_adapter: Any
try:  # PostgreSQL's driver is optional (SQLite needs none of this)
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection as _asyncpg_adapter
except ImportError:  # pragma: no cover
    _asyncpg_adapter = None
# `_run_asyncpg` uses the adapter's internals as SQLAlchemy 2.0's cursor does (pinned `<2.1`; the fast-path tests
# run on PostgreSQL). Should a release drop one of them, hot statements simply go through SQLAlchemy again.
_ADAPTER_PARTS = ("_execute_mutex", "_started", "_start_transaction", "_prepare", "_handle_exception")
if _asyncpg_adapter is not None and not all(hasattr(_asyncpg_adapter, a) for a in _ADAPTER_PARTS):
    _asyncpg_adapter = None  # pragma: no cover

_STATUS = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


async def _run_inline(connection: InlineConnection, sql: str, args: list[Any]) -> tuple[list[Any], int]:
    cursor = await connection.run(sql, args)
    try:
        return (cursor.fetchall() if cursor.description else []), cursor.rowcount
    finally:
        cursor.close()


async def _run_asyncpg(adapter: Any, sql: str, args: list[Any], dialect: Any) -> tuple[list[Any], int]:
    """One statement on SQLAlchemy's asyncpg adapter, as its cursor runs it (`_prepare_and_execute`): under the
    adapter's lock, in the transaction it starts lazily, with its cache of prepared statements, and with its
    translation of asyncpg's errors into the DB-API's; without the cursor, the result object and the greenlet."""
    async with adapter._execute_mutex:
        if not adapter._started:
            await adapter._start_transaction()
        try:
            prepared, _attributes = await adapter._prepare(sql, dialect._invalidate_schema_cache_asof)
            rows = await prepared.fetch(*args)
            status = prepared.get_statusmsg()
        except Exception as error:
            adapter._handle_exception(error)  # raises it as the DB-API error SQLAlchemy's cursor would raise
            raise
    found = _STATUS.match(status or "")
    return rows, int(found.group(1)) if found else -1
