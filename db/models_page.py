"""Tables of the contest page: one-time entry links (only their hashes), the key that signs page sessions, and
the idempotency keys of the answers the page sent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId


class PageLink(Base):
    """A one-time link to the contest page the bot sent one student for one round: only the SHA-256 of its
    token is kept; spent once, within its time."""

    __tablename__ = "page_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("contest_rounds.id", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class PageKey(Base):
    """The secret page sessions are signed with, made once and shared by every process (a session is checked
    without reading the database)."""

    __tablename__ = "page_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime]


class PageAnswerKey(Base):
    """An answer the page sent, by the idempotency key the page gave it: sent again, it gets the same reply."""

    __tablename__ = "page_answer_keys"
    __table_args__ = (UniqueConstraint("attempt_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
