"""Typed SQLAlchemy 2 models: schools, classes, users, accounts, progress, attempts, contests, the inbox, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId


class School(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]


class User(Base):
    """A person. Minimum data: a display name, a language, a role; no phone, no birth date."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    role: Mapped[str] = mapped_column(String(20), default="student")  # student|teacher|school_admin|organizer
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    onboarded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]


class ChannelAccount(Base):
    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]


class SchoolClass(Base):
    __tablename__ = "classes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    grade: Mapped[int] = mapped_column(Integer)
    school_year: Mapped[str] = mapped_column(String(9))  # "2026-2027"
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "class_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="student")
    joined_at: Mapped[dt.datetime]


class Invite(Base):
    """A one-time, expiring code by which someone becomes a school admin or a teacher."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[dt.datetime]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class Consent(Base):
    """A consent given (and perhaps withdrawn): the child's own agreement or the guardian's."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # child|guardian
    method: Mapped[str] = mapped_column(String(32))  # in_chat|paper_form|parent_link
    notice_version: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    given_at: Mapped[dt.datetime]
    withdrawn_at: Mapped[dt.datetime | None]
    # The number written on the signed paper form (method paper_form); no other detail of the guardian.
    reference: Mapped[str | None] = mapped_column(String(64))


class Conversation(Base):
    """Where a user is in a conversation: flow, step, data and the choices last offered."""

    __tablename__ = "conversations"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32), default="")
    step: Mapped[str] = mapped_column(String(32), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prompt: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime]


class LessonProgress(Base):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(32))
    content_version: Mapped[int] = mapped_column(Integer, default=1)
    card_index: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    check_score: Mapped[int | None] = mapped_column(Integer)


class QuizAttempt(Base):
    __tablename__ = "quiz_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # practice|lesson_check|contest
    topic: Mapped[str | None] = mapped_column(String(32))
    ref: Mapped[str | None] = mapped_column(String(64))  # lesson id for lesson checks
    # [[question_id, [shown option order as original indexes]], ...]
    questions: Mapped[list[Any]] = mapped_column(default=list)
    started_at: Mapped[dt.datetime]
    deadline_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    score: Mapped[int | None] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)


class AttemptAnswer(Base):
    __tablename__ = "attempt_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(64))
    chosen: Mapped[int] = mapped_column(Integer)  # original option index
    correct: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[dt.datetime]


class InboundUpdate(Base):
    """The inbox: every platform update is stored here before it is acknowledged, once per key."""

    __tablename__ = "inbound_updates"
    __table_args__ = (
        UniqueConstraint("channel", "bot_id", "external_id"),
        Index("ix_inbound_updates_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    bot_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column()
    # pending -> handled (state changed, replies kept here) -> done (replies sent); or dead after repeated failures
    status: Mapped[str] = mapped_column(String(16), default="pending")
    replies: Mapped[list[Any] | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime]
    handled_at: Mapped[dt.datetime | None]
    processed_at: Mapped[dt.datetime | None]


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime]
    # A users.id, deliberately without a foreign key: deleting or merging a user must not rewrite past rows
    # (a cascade would break the hash chain). Rows hold ids and counts only, never names.
    actor_id: Mapped[int | None] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Hash chain: hash = sha256(prev_hash + canonical content), so editing or removing a past row shows.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class Activity(Base):
    """Participation records for reports: what happened, when, in which school, class and topic.

    `user_id` is kept only while the student's data is kept (deletion sets it to NULL, the count stays); help
    lookups never record who."""

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_kind_at", "kind", "at"),
        Index("ix_activity_school_at", "school_id", "at"),
        Index("ix_activity_class_at", "class_id", "at"),  # a teacher's overview: their classes only
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="SET NULL"))
    topic: Mapped[str | None] = mapped_column(String(32))
    ref: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[int | None] = mapped_column(Integer)


# --- telegram ---
class ClassGroup(Base):
    """A class's group chat on a platform (a Telegram group the teacher linked), where lessons are posted."""

    __tablename__ = "class_groups"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[dt.datetime]


# --- zalo ---


class LinkCode(Base):
    """A one-time code (15 minutes) by which a second channel account joins the user who asked for it."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


# --- contests ---


class Contest(Base):
    """A contest; `definition` keeps the whole validated definition (rounds, rules, prizes) as written."""

    __tablename__ = "contests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]


class ContestRound(Base):
    """A round (đợt): scheduled -> open -> closed -> published. `actual` is the prediction target's value."""

    __tablename__ = "contest_rounds"
    __table_args__ = (UniqueConstraint("contest_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[dt.datetime]
    closes_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    opened_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    published_at: Mapped[dt.datetime | None]
    actual: Mapped[int | None] = mapped_column(Integer)


class ContestRegistration(Base):
    """Who enters, with a snapshot of name, school and class taken at registration (not editable later)."""

    __tablename__ = "contest_registrations"
    __table_args__ = (UniqueConstraint("contest_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    school_name: Mapped[str] = mapped_column(String(200))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="SET NULL"))
    class_name: Mapped[str] = mapped_column(String(50))
    grade: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    locked_at: Mapped[dt.datetime | None]  # set by the first attempt


class ContestEntry(Base):
    """Links a quiz attempt to a round. Official attempts carry `official_round_id` and a number, so the
    UNIQUE constraint allows each student only the attempts the rules allow; practice leaves them NULL."""

    __tablename__ = "contest_entries"
    __table_args__ = (UniqueConstraint("official_round_id", "user_id", "official_no"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("contest_rounds.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("contest_registrations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"), unique=True)
    official_round_id: Mapped[int | None] = mapped_column(ForeignKey("contest_rounds.id", ondelete="CASCADE"))
    official_no: Mapped[int | None] = mapped_column(Integer)
    prediction: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]


# What an erased person's name becomes in a frozen record (privacy's erase writes the `on_erase` value of a
# column in the rows that link to the person, instead of deleting rows whose figures were published).
ERASED_NAME = "(đã xóa dữ liệu)"


class PublishedRound(Base):
    """The figures of a round as they were published, written in the publishing transaction; with its ranked
    entries and its collective units, the frozen record that exports, certificates and results read."""

    __tablename__ = "published_rounds"

    round_id: Mapped[int] = mapped_column(ForeignKey("contest_rounds.id", ondelete="CASCADE"), primary_key=True)
    published_at: Mapped[dt.datetime]
    actual: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[int] = mapped_column(Integer)  # official attempts to review (answered too fast)
    collective_unit: Mapped[str] = mapped_column(String(16), default="")  # school|class, "" without the prize


class PublishedResult(Base):
    """One ranked entry of a published round. `user_id` is the only link to the person: erasing them nulls it
    and replaces the name; rank, score and prize stay as published."""

    __tablename__ = "published_results"
    __table_args__ = (UniqueConstraint("round_id", "rank"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("published_rounds.round_id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    display_name: Mapped[str] = mapped_column(String(100), info={"on_erase": ERASED_NAME})
    school_id: Mapped[int | None] = mapped_column(BigInteger)
    school_name: Mapped[str] = mapped_column(String(200))
    class_id: Mapped[int | None] = mapped_column(BigInteger)
    class_name: Mapped[str] = mapped_column(String(50))
    score: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    prediction: Mapped[int | None] = mapped_column(BigInteger)
    distance: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime]
    separated_by: Mapped[str] = mapped_column(String(16), default="")
    prize: Mapped[str] = mapped_column(String(16), default="")
    flags: Mapped[list[Any]] = mapped_column(default=list)  # e.g. ["too_fast"]
    erased: Mapped[bool] = mapped_column(Boolean, default=False, info={"on_erase": True})


class PublishedUnit(Base):
    """One school or class of the collective prize as published: members, participants, rate, prize."""

    __tablename__ = "published_units"
    __table_args__ = (UniqueConstraint("round_id", "rank"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("published_rounds.round_id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    school_name: Mapped[str] = mapped_column(String(200))
    members: Mapped[int] = mapped_column(Integer)
    participants: Mapped[int] = mapped_column(Integer)
    rate: Mapped[float] = mapped_column(Float)
    separated_by: Mapped[str] = mapped_column(String(16), default="")
    prize: Mapped[bool] = mapped_column(Boolean, default=False)


class SecurityEvent(Base):
    """Rejected late, replayed, forged or foreign contest answers, for organizers to review."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Notice(Base):
    """A message for one user (e.g. a prize), delivered by a sender or shown when the user next writes."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]


# --- broadcasts ---


class RosterEntry(Base):
    """A row of a class roster imported from the school's sheet; linked to the student who joined as them."""

    __tablename__ = "roster_entries"
    __table_args__ = (UniqueConstraint("class_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))  # folded: lower case, no diacritics
    student_code: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]


class Broadcast(Base):
    """A lesson or practice quiz sent to classes: a stored job, drained by the broadcast sender."""

    __tablename__ = "broadcasts"
    # One reminder a day per broadcast: NULLs (ordinary broadcasts) never conflict.
    __table_args__ = (UniqueConstraint("parent_id", "reminder_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # lesson|practice
    ref: Mapped[str] = mapped_column(String(64))  # lesson id, or topic for a practice quiz
    class_ids: Mapped[list[Any]] = mapped_column(default=list)
    send_at: Mapped[dt.datetime]
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True)
    reminder_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime]


class Delivery(Base):
    """One recipient of a broadcast (a student's channel account, or a class group chat)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "target"),
        Index("ix_deliveries_status_channel_id", "status", "channel", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(100))  # "telegram:123" or "group:telegram:-100123"
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(64))  # the account, to mark it unreachable
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="SET NULL"))
    # pending -> sending -> sent | failed | blocked; unreachable (skipped at creation); unknown (see sender)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    next_attempt_at: Mapped[dt.datetime | None]
    claimed_at: Mapped[dt.datetime | None]
    # When the last attempt ended: a restarted sender rebuilds its rate windows from it.
    attempted_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


# --- privacy ---


class ParentLink(Base):
    """A one-time code a parent opens on their own account (`/start P_<code>`) to give guardian consent."""

    __tablename__ = "parent_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[dt.datetime]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class PrivacyRequest(Base):
    """A data-subject request (copy, withdrawal, deletion) with the date it must be done by."""

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Kept after deletion: it then points at an emptied account, which identifies no one.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # export|withdraw|erase
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done
    requested_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]


# --- web console ---


class WebLogin(Base):
    """A one-time sign-in link the bot sent in the chat: only the SHA-256 of its token is kept."""

    __tablename__ = "web_logins"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class WebSession(Base):
    """A signed-in browser: the SHA-256 of the cookie's session id, and the CSRF token of its forms."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    created_at: Mapped[dt.datetime]


class WebFile(Base):
    """A file the bot could not hand over in the chat (Zalo carries no files), kept for a day behind a link made
    for its user: only the SHA-256 of the link's token is stored."""

    __tablename__ = "web_files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    created_at: Mapped[dt.datetime]


# --- reports ---


class FigureSnapshot(Base):
    """A school's or the district's overview figures as last counted (JSON) and the newest record they include
    (`bot.reports.snapshots`). Counts only, no personal data."""

    __tablename__ = "figure_snapshots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    period: Mapped[str] = mapped_column(String(64))  # "kind first last", e.g. "year 2025-11-16 2026-11-15"
    scope: Mapped[str] = mapped_column(String(200))  # the scope as JSON
    upto_id: Mapped[int] = mapped_column(BigInteger)  # the newest activity id the figures include
    computed_at: Mapped[dt.datetime]
    payload: Mapped[str] = mapped_column(Text)
    viewed_at: Mapped[dt.datetime] = mapped_column(index=True)
    refreshing_since: Mapped[dt.datetime | None]


# --- roster matching: students the teacher said are not on the class's sheet ---


class RosterUnlisted(Base):
    """A student who joined a class and, the teacher said, is on none of its roster rows: not offered for matching
    again until a new sheet is imported for the class."""

    __tablename__ = "roster_unlisted"
    __table_args__ = (UniqueConstraint("class_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime]


# --- web console: report jobs ---


class WebReportJob(Base):
    """A report made in the background for the web console: who asked, for which scope and period, how far it
    got. `active_key` is set while it is queued or running (unique: one such job per user, scope and period, even
    across processes) and cleared when it ends. Its files are web_files rows, written only when it succeeds."""

    __tablename__ = "web_report_jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(32))  # as asked: mine|all|school:ID|class:ID
    period: Mapped[str] = mapped_column(String(32))  # the period's tag: 2027-H1, 2027
    kind: Mapped[str] = mapped_column(String(16))  # the period's kind: half|year
    state: Mapped[str] = mapped_column(String(16))  # queued|running|done|failed
    step: Mapped[str] = mapped_column(String(16))  # queued|figures|charts|docx|xlsx|saving|done
    error: Mapped[str | None] = mapped_column(String(32))  # render|denied|stale|stopped
    active_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    docx_file_id: Mapped[int | None] = mapped_column(ForeignKey("web_files.id", ondelete="SET NULL"))
    xlsx_file_id: Mapped[int | None] = mapped_column(ForeignKey("web_files.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


# --- the "An toàn về an ninh, trật tự" standard ---


class StandardRegistration(Base):
    """A school's registration for the standard in one school year, its self-assessment (answers by criterion
    id: met, a note, evidence links) and the evaluation recorded with the police."""

    __tablename__ = "standard_registrations"
    __table_args__ = (UniqueConstraint("school_id", "school_year"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    school_year: Mapped[str] = mapped_column(String(9))  # "2026-2027"
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    registered_at: Mapped[dt.datetime]
    # {criterion id: {"met": bool, "note": str, "links": [str]}}
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    self_assessed_at: Mapped[dt.datetime | None]
    result: Mapped[str | None] = mapped_column(String(16))  # dat|chua_dat
    evaluated_on: Mapped[dt.date | None] = mapped_column(Date)
    evaluation_note: Mapped[str | None] = mapped_column(Text)
    evaluated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    evaluated_at: Mapped[dt.datetime | None]


# --- mailbox (hộp thư an toàn) ---
# A letter's rows are given in a data copy to its writer only, never to anyone else who appears in them (the
# counsellor who answered, a parent asking for their child's copy): privacy's export reads this mark.
WRITER_ONLY = "writer_only"


def _writer_only() -> dict[str, Any]:
    return {"info": {"copy": WRITER_ONLY}}


class MailboxCounsellor(Base):
    """A staff member a school admin named counsellor (tư vấn) of their school: they read the school's letters.
    Their role stays as it is (teacher or school admin); the designation holds while they belong to the school."""

    __tablename__ = "mailbox_counsellors"
    __table_args__ = (UniqueConstraint("school_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    named_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    named_at: Mapped[dt.datetime]


class MailboxCase(Base):
    """A child's letter to the school's counsellors: its kind, whether it is urgent, its state, and who wrote it.
    `writer_id` is kept for an anonymous letter too, only to carry replies back: no screen shows it. Deleted a
    set time after it is closed (MAILBOX_RETENTION_DAYS); the reports' counts are separate anonymous records."""

    __tablename__ = "mailbox_cases"
    __table_args__ = (Index("ix_mailbox_cases_school_status", "school_id", "status"), _writer_only())

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    writer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # a key of bot.core.activity.WORRY_KINDS
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new|helping|closed
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]


class MailboxMessage(Base):
    """One message of a letter's thread: the child's words or a counsellor's reply."""

    __tablename__ = "mailbox_messages"
    __table_args__ = (_writer_only(),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mailbox_cases.id", ondelete="CASCADE"), index=True)
    from_writer: Mapped[bool] = mapped_column(Boolean)
    # The counsellor who replied; not in the writer's copy (a reply is signed "thầy/cô tư vấn").
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), info={"in_copy": False})
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


# --- pledges ---


class Pledge(Base):
    """A pledge published for a school year (ký cam kết): for one school, or for every school of the district
    (`school_id` NULL); students and parents confirm it inside its window. Its text lives in versions."""

    __tablename__ = "pledges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    school_year: Mapped[str] = mapped_column(String(9))  # "2026-2027"
    title: Mapped[str] = mapped_column(String(120))
    template: Mapped[str | None] = mapped_column(String(64))  # the content template it was made from
    version: Mapped[int] = mapped_column(Integer, default=1)  # the current text
    opens_at: Mapped[dt.datetime]
    closes_at: Mapped[dt.datetime]  # the first instant after the window
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]


class PledgeVersion(Base):
    """One text of a pledge; editing publishes a new version, and every confirmation names the one it confirmed."""

    __tablename__ = "pledge_versions"
    __table_args__ = (UniqueConstraint("pledge_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]


class PledgeConfirmation(Base):
    """A student's confirmation of one version of a pledge, or a parent's for their child (`confirmed_by` the
    parent). At most one per version and side, so confirming twice keeps one record. Both people own it: it goes
    when either one's data is erased."""

    __tablename__ = "pledge_confirmations"
    __table_args__ = (
        UniqueConstraint("pledge_id", "version", "student_id", "signer"),
        Index("ix_pledge_confirmations_student_id", "student_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    signer: Mapped[str] = mapped_column(String(8))  # student|parent
    confirmed_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    confirmed_at: Mapped[dt.datetime]


class PledgeReminder(Base):
    """A reminder sent to a class's students and parents who had not confirmed: at most one a day per class."""

    __tablename__ = "pledge_reminders"
    __table_args__ = (UniqueConstraint("pledge_id", "class_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]


# Later features' tables live in modules of their own; importing this module registers them all.
from db import models_live, models_oa, models_page  # noqa: E402,F401
