"""The web console's tables: sign-in links and sessions, files behind links, report jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.web.page_ports import PageLinkRec
from bot.web.ports import WebFileRec, WebReportJobRec, WebSessionRec
from db import models as m
from db import models_page as mp
from db.sql import SqlRepository, hot, insert_ignore, rowcount, sql_statement


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
    ) -> int:
        row = m.WebFile(
            token_hash=token_hash,
            user_id=user_id,
            filename=filename[:200],
            mime_type=mime_type,
            content=content,
            expires_at=expires_at,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

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

    async def by_id(self, file_id: int, user_id: int, now: dt.datetime) -> WebFileRec | None:
        f = m.WebFile
        row = (
            await self.session.execute(
                select(f.user_id, f.filename, f.mime_type, f.content).where(
                    f.id == file_id, f.user_id == user_id, f.expires_at > now
                )
            )
        ).first()
        return WebFileRec(row.user_id, row.filename, row.mime_type, row.content) if row is not None else None

    async def purge(self, now: dt.datetime) -> int:
        return rowcount(await self.session.execute(delete(m.WebFile).where(m.WebFile.expires_at <= now)))


J = m.WebReportJob
_JOB_COLUMNS = (
    J.id,
    J.user_id,
    J.scope,
    J.period,
    J.kind,
    J.state,
    J.step,
    J.error,
    J.docx_file_id,
    J.xlsx_file_id,
    J.created_at,
    J.updated_at,
)


def _job(row: Any) -> WebReportJobRec:
    return WebReportJobRec(*row)


class SqlWebReportJobRepository(SqlRepository):
    async def start(
        self, user_id: int, scope: str, period: str, kind: str, now: dt.datetime, stale_before: dt.datetime
    ) -> tuple[int, bool]:
        key = f"{user_id}:{scope}:{period}:{kind}"
        # A job whose process died stops holding the place of a new one.
        await self.session.execute(
            update(J)
            .where(J.active_key == key, J.updated_at < stale_before)
            .values(state="failed", error="stale", active_key=None, updated_at=now)
        )
        for _attempt in range(2):
            found = await self.session.scalar(select(J.id).where(J.active_key == key))
            if found is not None:
                return int(found), False
            try:
                async with self.session.begin_nested():  # of two processes inserting at once, one wins
                    new = await self.session.scalar(
                        insert(J)
                        .values(
                            user_id=user_id,
                            scope=scope,
                            period=period,
                            kind=kind,
                            state="queued",
                            step="queued",
                            active_key=key,
                            created_at=now,
                            updated_at=now,
                        )
                        .returning(J.id)
                    )
                if new is None:
                    raise RuntimeError("report job: the insert returned no id")
                return int(new), True
            except IntegrityError:
                continue
        raise RuntimeError("report job: no row after two attempts")

    async def get(self, job_id: int) -> WebReportJobRec | None:
        row = (await self.session.execute(select(*_JOB_COLUMNS).where(J.id == job_id))).first()
        return _job(row) if row is not None else None

    async def recent(self, user_id: int, limit: int) -> list[WebReportJobRec]:
        stmt = select(*_JOB_COLUMNS).where(J.user_id == user_id).order_by(J.id.desc()).limit(limit)
        return [_job(row) for row in (await self.session.execute(stmt)).all()]

    async def claim(self, job_id: int, now: dt.datetime) -> bool:
        moved = await self.session.execute(
            update(J).where(J.id == job_id, J.state == "queued").values(state="running", step="figures", updated_at=now)
        )
        return rowcount(moved) == 1

    async def progress(self, job_id: int, step: str, now: dt.datetime) -> None:
        await self.session.execute(
            update(J).where(J.id == job_id, J.state == "running").values(step=step, updated_at=now)
        )

    async def finish(self, job_id: int, docx_file_id: int, xlsx_file_id: int, now: dt.datetime) -> None:
        await self.session.execute(
            update(J)
            .where(J.id == job_id)
            .values(
                state="done",
                step="done",
                active_key=None,
                docx_file_id=docx_file_id,
                xlsx_file_id=xlsx_file_id,
                updated_at=now,
            )
        )

    async def fail(self, job_id: int, error: str, now: dt.datetime) -> None:
        await self.session.execute(
            update(J)
            .where(J.id == job_id, J.state.in_(("queued", "running")))
            .values(state="failed", error=error, active_key=None, updated_at=now)
        )

    async def purge(self, before: dt.datetime) -> int:
        return rowcount(await self.session.execute(delete(J).where(J.created_at < before, J.active_key.is_(None))))


_ADD_ANSWER_KEY = hot(  # on every answer the page sends: built once, as the chat's answer statements
    sql_statement(
        "INSERT INTO page_answer_keys (attempt_id, key, seq, outcome, created_at)"
        " VALUES (:attempt_id, :key, :seq, :outcome, :now) ON CONFLICT (attempt_id, key) DO NOTHING",
        mp.PageAnswerKey.__table__,
        now="created_at",
    )
)


class SqlPageRepository(SqlRepository):
    """The contest page's links, session key and answer keys (`bot.web.page_ports`)."""

    async def add_link(
        self, token_hash: str, user_id: int, round_id: int, expires_at: dt.datetime, now: dt.datetime
    ) -> None:
        link = mp.PageLink(token_hash=token_hash, user_id=user_id, round_id=round_id, expires_at=expires_at)
        link.created_at = now
        self.session.add(link)
        await self.session.flush()

    async def use_link(self, token_hash: str, now: dt.datetime) -> PageLinkRec | None:
        # One UPDATE decides, as for the console's links: of two spends at once, one changes the row.
        spent = await self.session.execute(
            update(mp.PageLink)
            .where(mp.PageLink.token_hash == token_hash, mp.PageLink.used_at.is_(None), mp.PageLink.expires_at > now)
            .values(used_at=now)
        )
        if rowcount(spent) != 1:
            return None
        row = (
            await self.session.execute(
                select(mp.PageLink.user_id, mp.PageLink.round_id).where(mp.PageLink.token_hash == token_hash)
            )
        ).one()
        return PageLinkRec(row.user_id, row.round_id)

    async def secret(self, candidate: str, now: dt.datetime) -> str:
        table = mp.PageKey.__table__
        await self.session.execute(
            insert_ignore(self.session, table, ["id"]).values(id=1, secret=candidate, created_at=now)
        )
        stored: str = (await self.session.execute(select(mp.PageKey.secret).where(mp.PageKey.id == 1))).scalar_one()
        return stored

    async def answer_key(self, attempt_id: int, user_id: int, key: str) -> tuple[int, str] | None:
        keys = mp.PageAnswerKey
        row = (
            await self.session.execute(
                select(keys.seq, keys.outcome)
                .join(m.QuizAttempt, m.QuizAttempt.id == keys.attempt_id)
                .where(keys.attempt_id == attempt_id, keys.key == key, m.QuizAttempt.user_id == user_id)
            )
        ).first()
        return (row.seq, row.outcome) if row is not None else None

    async def add_answer_key(self, attempt_id: int, key: str, seq: int, outcome: str, now: dt.datetime) -> bool:
        values = {"attempt_id": attempt_id, "key": key, "seq": seq, "outcome": outcome, "now": now}
        return rowcount(await self.session.execute(_ADD_ANSWER_KEY, values)) == 1

    async def purge(self, now: dt.datetime) -> int:
        old = or_(mp.PageLink.expires_at <= now, mp.PageLink.used_at.is_not(None))
        return rowcount(await self.session.execute(delete(mp.PageLink).where(old)))
