"""SQL of privacy: parent links, data-subject requests, and every row about one user, found by following the
foreign keys to `users` (export, erase, retention)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    MetaData,
    Table,
    Text,
    cast,
    delete,
    func,
    or_,
    select,
    update,
)

from bot.core.ports import UserRec
from bot.privacy.ports import ParentLinkRec, PrivacyRequestRec
from db import models as m
from db.models_oa import OAFollower
from db.repositories import user_rec
from db.sql import SqlRepository, rowcount

_accounts: Table = m.ChannelAccount.__table__  # type: ignore[assignment]


# Tables that keep their link to an emptied account: they hold no personal data by design (audit rows carry ids,
# actions and counts; requests carry kinds and dates), and the audit log's hash chain must not change.
KEEP_ON_ERASE = frozenset({"audit_log", "privacy_requests"})


# Keys under which platform updates name a person: {"from": {"id": ...}}, {"sender": {"id": ...}}, ...
_PARTY_KEYS = ("from", "sender", "user", "chat", "recipient")


@dataclass(frozen=True)
class PersonalLink:
    """A foreign key that leads from a user to rows about them: directly, or through rows the user owns."""

    table: Table
    column: Column[Any]
    parent: Table
    owning: bool  # ON DELETE CASCADE: the row belongs to the user and goes with them


def personal_data_links(metadata: MetaData = m.Base.metadata) -> dict[str, list[PersonalLink]]:
    """Every table that holds rows about a user, with the keys that lead there, in dependency order.

    Generated from the models, so a new table with a foreign key to users (or to a table the user owns, like
    attempt answers under attempts) is exported and erased without anyone remembering to add it."""
    owned = {"users"}
    out: dict[str, list[PersonalLink]] = {}
    for table in metadata.sorted_tables:
        if table.name == "users":
            continue
        links = [
            PersonalLink(table, fk.parent, fk.column.table, (fk.ondelete or "").upper() == "CASCADE")
            for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name)
            if fk.column.table.name in owned
        ]
        if links:
            out[table.name] = links
            if any(link.owning for link in links):
                owned.add(table.name)
    return out


def _mentions(node: Any, external_id: str) -> bool:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _PARTY_KEYS and isinstance(value, dict) and str(value.get("id")) == external_id:
                return True
            if _mentions(value, external_id):
                return True
    elif isinstance(node, list):
        return any(_mentions(item, external_id) for item in node)
    return False


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class SqlParentLinkRepository(SqlRepository):
    async def create(
        self, code: str, student_id: int, created_by: int | None, expires_at: dt.datetime, now: dt.datetime
    ) -> ParentLinkRec:
        row = m.ParentLink(
            code=code, student_id=student_id, created_by=created_by, expires_at=expires_at, created_at=now
        )
        self.session.add(row)
        await self.session.flush()
        return ParentLinkRec(row.id, row.code, row.student_id, row.expires_at, row.used_by)

    async def by_code(self, code: str) -> ParentLinkRec | None:
        row = (await self.session.execute(select(m.ParentLink).where(m.ParentLink.code == code))).scalar_one_or_none()
        return ParentLinkRec(row.id, row.code, row.student_id, row.expires_at, row.used_by) if row else None

    async def mark_used(self, link_id: int, user_id: int, now: dt.datetime) -> bool:
        result = await self.session.execute(
            update(m.ParentLink)
            .where(m.ParentLink.id == link_id, m.ParentLink.used_by.is_(None))
            .values(used_by=user_id, used_at=now)
        )
        return bool(rowcount(result))


def _request(row: m.PrivacyRequest) -> PrivacyRequestRec:
    return PrivacyRequestRec(row.id, row.user_id, row.kind, row.status, row.requested_at, row.due_at, row.completed_at)


class SqlPrivacyRepository(SqlRepository):
    async def add_request(
        self, user_id: int, requested_by: int | None, kind: str, now: dt.datetime, due_at: dt.datetime
    ) -> PrivacyRequestRec:
        row = m.PrivacyRequest(
            user_id=user_id, requested_by=requested_by, kind=kind, status="pending", requested_at=now, due_at=due_at
        )
        self.session.add(row)
        await self.session.flush()
        return _request(row)

    async def complete_request(self, request_id: int, now: dt.datetime) -> None:
        await self.session.execute(
            update(m.PrivacyRequest)
            .where(m.PrivacyRequest.id == request_id, m.PrivacyRequest.status == "pending")
            .values(status="done", completed_at=now)
        )

    async def requests(self, status: str | None = None, kind: str | None = None) -> list[PrivacyRequestRec]:
        stmt = select(m.PrivacyRequest).order_by(m.PrivacyRequest.id)
        if status:
            stmt = stmt.where(m.PrivacyRequest.status == status)
        if kind:
            stmt = stmt.where(m.PrivacyRequest.kind == kind)
        return [_request(r) for r in (await self.session.execute(stmt)).scalars()]

    async def class_members(self, class_id: int) -> list[UserRec]:
        rows = (
            await self.session.execute(
                select(m.User)
                .join(m.Membership, m.Membership.user_id == m.User.id)
                .where(m.Membership.class_id == class_id, m.User.role == "student")
                .order_by(m.User.display_name, m.User.id)
            )
        ).scalars()
        return [user_rec(r) for r in rows]

    async def children_of(self, parent_id: int) -> list[UserRec]:
        rows = (
            await self.session.execute(
                select(m.User)
                .where(
                    m.User.id.in_(
                        select(m.Consent.user_id).where(
                            m.Consent.recorded_by == parent_id, m.Consent.method == "parent_link"
                        )
                    )
                )
                .order_by(m.User.id)
            )
        ).scalars()
        return [user_rec(r) for r in rows]

    # Rows about a user, found by following foreign keys from users.id.

    def _where(self, link: PersonalLink, user_id: int, links: dict[str, list[PersonalLink]]) -> Any:
        if link.parent.name == "users":
            return link.column == user_id
        return link.column.in_(select(link.parent.c.id).where(self._owned(link.parent.name, user_id, links)))

    def _owned(self, name: str, user_id: int, links: dict[str, list[PersonalLink]]) -> Any:
        return or_(*(self._where(link, user_id, links) for link in links[name] if link.owning))

    async def _accounts(self, user_id: int) -> list[tuple[str, str]]:
        rows = await self.session.execute(
            select(m.ChannelAccount.channel, m.ChannelAccount.external_id).where(m.ChannelAccount.user_id == user_id)
        )
        return [(c, e) for c, e in rows.all()]

    async def _inbox_rows(self, accounts: list[tuple[str, str]]) -> list[m.InboundUpdate]:
        """Stored platform updates sent by (or to) these accounts: matched on the channel and the platform
        user id inside the payload (a text search narrows, the JSON check decides)."""
        found: list[m.InboundUpdate] = []
        for channel, external_id in accounts:
            rows = (
                await self.session.execute(
                    select(m.InboundUpdate)
                    .where(
                        m.InboundUpdate.channel == channel,
                        cast(m.InboundUpdate.payload, Text).contains(external_id, autoescape=True),
                    )
                    .order_by(m.InboundUpdate.id)
                )
            ).scalars()
            found += [r for r in rows if _mentions(r.payload, external_id)]
        return found

    async def export(self, user_id: int, own_copy: bool = True) -> dict[str, list[dict[str, Any]]]:
        links = personal_data_links()
        tables = m.Base.metadata.tables
        out: dict[str, list[dict[str, Any]]] = {}
        users = tables["users"]
        rows = (await self.session.execute(select(users).where(users.c.id == user_id))).mappings().all()
        out["users"] = [_jsonable(dict(r)) for r in rows]
        for name, table_links in links.items():
            table = tables[name]
            if table.info.get("copy") == m.WRITER_ONLY:
                # A child's letters to the counsellor: in the copy the child asks for themselves, by the rows
                # they own; never in the copy of someone who answered them, nor in one a parent asks for.
                table_links = [link for link in table_links if link.owning] if own_copy else []
                if not table_links:
                    continue
            stmt = select(table).where(or_(*(self._where(link, user_id, links) for link in table_links)))
            rows = (await self.session.execute(stmt.order_by(*table.primary_key.columns))).mappings().all()
            hidden = {c.name for c in table.columns if c.info.get("in_copy") is False}
            out[name] = [_jsonable({k: v for k, v in r.items() if k not in hidden}) for r in rows]
        audit = tables["audit_log"]  # no foreign key on purpose (see the model); what the person did
        actions = await self.session.execute(select(audit).where(audit.c.actor_id == user_id).order_by(audit.c.id))
        out["audit_log"] = [_jsonable(dict(r)) for r in actions.mappings().all()]
        out["inbound_updates"] = [
            {
                "id": r.id,
                "channel": r.channel,
                "received_at": r.received_at.isoformat(),
                "payload": _jsonable(r.payload),
            }
            for r in await self._inbox_rows(await self._accounts(user_id))
        ]
        return out

    async def erase(self, user_id: int) -> dict[str, int]:
        """Remove the user's personal data everywhere; returns the number of rows changed per table.

        Rows the user owns are deleted (children first), other references are set to NULL (so the
        participation records stay as anonymous counts) and the columns a model marks with an `on_erase` value
        take it (a published result keeps its rank and score under a placeholder name), stored updates from
        their accounts lose their payload, and the users row is emptied (its id stays, pointing at no one)."""
        links = personal_data_links()
        tables = m.Base.metadata.tables
        counts: dict[str, int] = {}
        name = (await self.session.execute(select(m.User.display_name).where(m.User.id == user_id))).scalar()
        if name and len(name) >= 4:
            counts.update(await self._scrub_mentions(name))
        accounts = await self._accounts(user_id)
        oa_users = [external_id for channel, external_id in accounts if channel == "zalo_oa"]
        if oa_users:  # the OA's interaction times of their OA accounts
            result = await self.session.execute(delete(OAFollower).where(OAFollower.user_id.in_(oa_users)))
            counts["oa_followers"] = rowcount(result)
        inbox = await self._inbox_rows(accounts)
        if inbox:
            await self.session.execute(
                update(m.InboundUpdate)
                .where(m.InboundUpdate.id.in_([r.id for r in inbox]))
                .values(payload={}, replies=None, error=None)
            )
            counts["inbound_updates"] = len(inbox)
        for name in reversed(list(links)):
            if name in KEEP_ON_ERASE:
                continue
            table, table_links = tables[name], links[name]
            changed = 0
            owning = [link for link in table_links if link.owning or not link.column.nullable]
            if owning:
                result = await self.session.execute(
                    delete(table).where(or_(*(self._where(link, user_id, links) for link in owning)))
                )
                changed += rowcount(result)
            # A frozen record (published contest results) keeps its rows: they lose the link and the name.
            anonymised = {c.name: c.info["on_erase"] for c in table.columns if "on_erase" in c.info}
            for link in table_links:
                if link in owning:
                    continue
                result = await self.session.execute(
                    update(table)
                    .where(self._where(link, user_id, links))
                    .values({**anonymised, link.column.name: None})
                )
                changed += rowcount(result)
            if changed:
                counts[name] = changed
        users = tables["users"]
        emptied: dict[str, Any] = {c.name: None for c in users.columns if c.nullable and not c.primary_key}
        emptied["onboarded"] = False
        await self.session.execute(update(users).where(users.c.id == user_id).values(emptied))
        counts["users"] = 1
        return counts

    async def _scrub_mentions(self, name: str) -> dict[str, int]:
        """Other people's conversation state, unsent replies and notices can show this name (a teacher's list of
        students, a parent's notice about their child): reset or delete them. JSON may store the name escaped
        (\\u...) or as is, so both are searched."""
        forms = {name, json.dumps(name)[1:-1]}

        def mentions(column: Any) -> Any:
            return or_(*(cast(column, Text).contains(f, autoescape=True) for f in forms))

        conversations = await self.session.execute(
            update(m.Conversation)
            .where(or_(mentions(m.Conversation.prompt), mentions(m.Conversation.data)))
            .values(flow="", step="", data={}, prompt={})
        )
        replies = await self.session.execute(
            update(m.InboundUpdate)
            .where(m.InboundUpdate.replies.is_not(None), mentions(m.InboundUpdate.replies))
            .values(replies=None)
        )
        # Notices written to someone else about this person (a parent's pledge notice names their child).
        notices = await self.session.execute(delete(m.Notice).where(mentions(m.Notice.text)))
        return {
            k: int(v or 0)
            for k, v in (
                ("conversations", rowcount(conversations)),
                ("inbound_updates", rowcount(replies)),
                ("notices", rowcount(notices)),
            )
            if v
        }

    async def inactive_users(self, before: dt.datetime) -> list[int]:
        last_seen = func.coalesce(m.Conversation.updated_at, m.User.created_at)
        rows = await self.session.execute(
            select(m.User.id)
            .outerjoin(m.Conversation, m.Conversation.user_id == m.User.id)
            .where(
                m.User.role.in_(("student", "parent")),
                last_seen < before,
                select(m.ChannelAccount.id).where(m.ChannelAccount.user_id == m.User.id).exists(),
            )
            .order_by(m.User.id)
        )
        return [int(i) for i in rows.scalars()]

    async def purge_old(
        self,
        before: dt.datetime,
        inbox_before: dt.datetime,
        now: dt.datetime,
        mailbox_before: dt.datetime | None = None,
    ) -> dict[str, int]:
        """Remove personal records older than the retention period (answers, attempts, lesson progress, pledge
        confirmations), and the mailbox's letters closed before `mailbox_before`; participation counts (the
        letters' counts by kind too) stay, unlinked."""
        old_attempts = select(m.QuizAttempt.id).where(m.QuizAttempt.started_at < before)
        closed_cases = select(m.MailboxCase.id).where(
            m.MailboxCase.status == "closed", m.MailboxCase.closed_at < (mailbox_before or before)
        )
        steps: list[tuple[str, Any]] = [
            ("attempt_answers", delete(m.AttemptAnswer).where(m.AttemptAnswer.attempt_id.in_(old_attempts))),
            ("quiz_attempts", delete(m.QuizAttempt).where(m.QuizAttempt.started_at < before)),
            ("lesson_progress", delete(m.LessonProgress).where(m.LessonProgress.opened_at < before)),
            ("pledge_confirmations", delete(m.PledgeConfirmation).where(m.PledgeConfirmation.confirmed_at < before)),
            (
                "activity",
                update(m.Activity)
                .where(m.Activity.at < before, m.Activity.user_id.is_not(None))
                .values(user_id=None, class_id=m.Activity.class_id),
            ),
            (
                "inbound_updates",
                delete(m.InboundUpdate).where(
                    m.InboundUpdate.status.in_(("done", "dead")), m.InboundUpdate.received_at < inbox_before
                ),
            ),
            ("parent_links", delete(m.ParentLink).where(m.ParentLink.expires_at < now)),
            # Far older than the OA's 7-day window: no longer of use (no row says the same: window closed).
            ("oa_followers", delete(OAFollower).where(OAFollower.updated_at < inbox_before)),
            ("mailbox_messages", delete(m.MailboxMessage).where(m.MailboxMessage.case_id.in_(closed_cases))),
            ("mailbox_cases", delete(m.MailboxCase).where(m.MailboxCase.id.in_(closed_cases))),
        ]
        counts: dict[str, int] = {}
        for name, stmt in steps:
            result = await self.session.execute(stmt)
            if rowcount(result):
                counts[name] = rowcount(result)
        return counts
