"""Helpers every SQL repository shares (the kernel's in `db/repositories.py`, each feature's in its `sql` module).

Statements on the hot path (every event, every contest answer) are built once at import, with bound parameters
(`p`), and run as Core statements on the tables: SQLAlchemy then skips building the statement, computing its
cache key and loading ORM objects, which was most of the bot's CPU per update. Rows are read by column name.
Those marked `hot(...)` where they are defined also run on the fast path (`db/fast.py`) unless it is off."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.fast import hot

__all__ = ["SqlRepository", "hot", "insert_ignore", "p", "prefixed", "prefixed_rec", "rowcount", "sql_statement"]

p = bindparam


def insert_ignore(session: AsyncSession, table: Any, index_elements: list[str]) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for the session's dialect."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    return make(table).on_conflict_do_nothing(index_elements=index_elements)


def sql_statement(sql: str, table: Any, returning: Any = None, now: str = "") -> Any:
    """A statement written as SQL, each `:param` typed like the column of that name (`:now` like `now`).

    For the upserts: SQLAlchemy does not cache the dialect-specific `INSERT ... ON CONFLICT` constructs and
    compiled them again on every call; the `ON CONFLICT` syntax below is the same on SQLite and PostgreSQL,
    and a text statement is compiled once."""
    names = dict.fromkeys(re.findall(r"(?<!:):(\w+)", sql))
    stmt = text(sql).bindparams(*(bindparam(n, type_=table.c[now if n == "now" else n].type) for n in names))
    return stmt.columns(returning) if returning is not None else stmt


def prefixed(row: Any, prefix: str) -> dict[str, Any]:
    """The columns of one table in a joined row, labelled `<prefix><column>`, by column name."""
    n = len(prefix)
    return {k[n:]: v for k, v in row._mapping.items() if k.startswith(prefix)}


_FIELDS: dict[type, tuple[str, ...]] = {}


def prefixed_rec(cls: Any, row: Any, prefix: str) -> Any:
    """A record dataclass from the columns of one table in a joined row, labelled `<prefix><field>`."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    mapping = row._mapping
    return cls(*[mapping[prefix + n] for n in names])


class SqlRepository:
    """A repository: it works in the unit of work's session and never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session


def rowcount(result: Any) -> int:
    """Rows an UPDATE, DELETE or INSERT changed (0 when the driver cannot tell): SQLAlchemy's cursor result and
    the fast path's result both carry `rowcount`; the generic `Result` type says nothing of it."""
    return int(getattr(result, "rowcount", 0) or 0)
