"""The web console's tables: sign-in links and sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select, update

from bot.web.ports import WebFileRec, WebSessionRec
from db import models as m
from db.sql import SqlRepository, rowcount


class SqlWebRepository(SqlRepository):
    async def add_login(self, token_hash: str, user_id: int, expires_at: dt.datetime, now: dt.datetime) -> None:
        self.session.add(m.WebLogin(token_hash=token_hash, user_id=user_id, expires_at=expires_at, created_at=now))
        await self.session.flush()

    async def use_login(self, token_hash: str, now: dt.datetime) -> int | None:
        # One UPDATE decides: of two browsers spending the same link at once, one changes the row.
        spent = await self.session.execute(
            update(m.WebLogin)
            .where(m.WebLogin.token_hash == token_hash, m.WebLogin.used_at.is_(None), m.WebLogin.expires_at > now)
            .values(used_at=now)
        )
        if rowcount(spent) != 1:
            return None
        user_id: int | None = await self.session.scalar(
            select(m.WebLogin.user_id).where(m.WebLogin.token_hash == token_hash)
        )
        return user_id

    async def add_session(
        self, sid_hash: str, user_id: int, csrf: str, expires_at: dt.datetime, now: dt.datetime
    ) -> None:
        self.session.add(
            m.WebSession(sid_hash=sid_hash, user_id=user_id, csrf=csrf, expires_at=expires_at, created_at=now)
        )
        await self.session.flush()

    async def find_session(self, sid_hash: str, now: dt.datetime) -> WebSessionRec | None:
        row = (
            await self.session.execute(
                select(m.WebSession.user_id, m.WebSession.csrf, m.WebSession.expires_at).where(
                    m.WebSession.sid_hash == sid_hash, m.WebSession.expires_at > now
                )
            )
        ).first()
        return WebSessionRec(row.user_id, row.csrf, row.expires_at) if row is not None else None

    async def end_session(self, sid_hash: str) -> None:
        await self.session.execute(delete(m.WebSession).where(m.WebSession.sid_hash == sid_hash))

    async def purge(self, now: dt.datetime) -> int:
        gone = rowcount(await self.session.execute(delete(m.WebSession).where(m.WebSession.expires_at <= now)))
        old = or_(m.WebLogin.expires_at <= now, m.WebLogin.used_at.is_not(None))
        return gone + rowcount(await self.session.execute(delete(m.WebLogin).where(old)))


class SqlWebFileRepository(SqlRepository):
    async def add(
        self,
        token_hash: str,
        user_id: int,
        filename: str,
        mime_type: str,
        content: bytes,
        expires_at: dt.datetime,
        now: dt.datetime,
    ) -> None:
        self.session.add(
            m.WebFile(
                token_hash=token_hash,
                user_id=user_id,
                filename=filename[:200],
                mime_type=mime_type,
                content=content,
                expires_at=expires_at,
                created_at=now,
            )
        )
        await self.session.flush()

    async def get(self, token_hash: str, now: dt.datetime) -> WebFileRec | None:
        f = m.WebFile
        row = (
            await self.session.execute(
                select(f.user_id, f.filename, f.mime_type, f.content).where(
                    f.token_hash == token_hash, f.expires_at > now
                )
            )
        ).first()
        return WebFileRec(row.user_id, row.filename, row.mime_type, row.content) if row is not None else None

    async def purge(self, now: dt.datetime) -> int:
        return rowcount(await self.session.execute(delete(m.WebFile).where(m.WebFile.expires_at <= now)))
