"""Tables of the live festival round: the round's schedule (everyone on the same question) and who joined it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId


class LiveRound(Base):
    """A contest round played live: its questions are drawn once, shown to everyone in the same order, and
    advance together on a server schedule from `starts_at` (`question_seconds` to answer, then `pause_seconds`
    showing the standings). At most one per round. `class_ids` is the chosen scope."""

    __tablename__ = "live_rounds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("contest_rounds.id", ondelete="CASCADE"), unique=True)
    class_ids: Mapped[list[Any]]
    questions: Mapped[list[Any]]  # [[question id, shown option order], ...]
    question_seconds: Mapped[int] = mapped_column(Integer)
    pause_seconds: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]


class LiveParticipant(Base):
    """A student in a live round, with the official attempt the round's answers are stored in (so results,
    prizes and exports are the round's own)."""

    __tablename__ = "live_participants"
    __table_args__ = (
        UniqueConstraint("live_id", "user_id"),
        Index("ix_live_participants_live_id_class_id", "live_id", "class_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    live_id: Mapped[int] = mapped_column(ForeignKey("live_rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"), unique=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="SET NULL"))
    school_name: Mapped[str] = mapped_column(String(200))
    class_name: Mapped[str] = mapped_column(String(50))
    joined_at: Mapped[dt.datetime]
