"""Participation records for the reports, written in the same transaction as what they record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.core.context import Context
from bot.core.i18n import N_
from bot.core.ports import UnitOfWork

# Every kind of participation record; the reports count each of them.
LESSON_DELIVERED = "lesson_delivered"  # a teacher's lesson reached one student (once per student)
LESSON_OPENED = "lesson_opened"
LESSON_COMPLETED = "lesson_completed"
PRACTICE_FINISHED = "practice_finished"  # value = score
HELP_VIEWED = "help_viewed"  # anonymous: counted, never who
BROADCAST_SENT = "broadcast_sent"  # one per class a broadcast goes to, by its sender (a teacher)
CONTEST_ENTERED = "contest_entered"  # ref = contest id
CONTEST_SUBMITTED = "contest_submitted"  # ref = contest id, value = score
CONTEST_AWARDED = "contest_awarded"  # ref = contest id, value = prize rank (1 Nhất, 2 Nhì, 3 Ba, 4 Khuyến khích)
# A letter to the school counsellor (the safe mailbox): anonymous, ref = the kind of worry; counted, never who
# nor what. Reports count these apart from the participation kinds below.
MAILBOX_WRITTEN = "mailbox_written"
# The kinds of worry a child chooses (ids are stored; names shown in the chat, the console and the reports).
WORRY_KINDS: dict[str, str] = {
    "bat-nat": N_("bị bắt nạt"),
    "bao-luc": N_("bạo lực hoặc xâm hại"),
    "ma-tuy": N_("ma túy"),
    "tren-mang": N_("chuyện trên mạng"),
    "khac": N_("chuyện khác"),
}

ALL_KINDS: tuple[str, ...] = (
    LESSON_DELIVERED,
    LESSON_OPENED,
    LESSON_COMPLETED,
    PRACTICE_FINISHED,
    CONTEST_ENTERED,
    CONTEST_SUBMITTED,
    CONTEST_AWARDED,
    BROADCAST_SENT,
    HELP_VIEWED,
)
# Kinds whose user is a student taking part: "students reached" counts their distinct users.
STUDENT_KINDS: tuple[str, ...] = (
    LESSON_DELIVERED,
    LESSON_OPENED,
    LESSON_COMPLETED,
    PRACTICE_FINISHED,
    CONTEST_ENTERED,
    CONTEST_SUBMITTED,
)


async def record_for(
    uow: UnitOfWork,
    user_id: int,
    kind: str,
    now: dt.datetime,
    topic: str | None = None,
    ref: str | None = None,
    value: int | None = None,
    fallback_school_id: int | None = None,
) -> None:
    """Record one participation event of `user_id`, tied to their (latest) class and its school."""
    await uow.activity.add_for_student(kind, now, user_id, topic, ref, value, fallback_school_id)


async def record(
    ctx: Context[Any, Any],
    kind: str,
    topic: str | None = None,
    ref: str | None = None,
    value: int | None = None,
    anonymous: bool = False,
) -> None:
    """Record one participation event for the current user; anonymous ones keep only the school."""
    if not anonymous:
        await record_for(ctx.uow, ctx.user.id, kind, ctx.now, topic, ref, value, ctx.user.school_id)
        return
    await ctx.uow.activity.add_anonymous(kind, ctx.now, ctx.user.id, ctx.user.school_id, topic, ref, value)
