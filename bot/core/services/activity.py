"""Participation records for the reports, written in the same transaction as what they record."""

from __future__ import annotations

from bot.core.context import Context

# Kinds written today; reports group by these.
LESSON_OPENED = "lesson_opened"
LESSON_COMPLETED = "lesson_completed"
PRACTICE_FINISHED = "practice_finished"
HELP_VIEWED = "help_viewed"
LESSON_DELIVERED = "lesson_delivered"  # one per student reached by a broadcast
BROADCAST_SENT = "broadcast_sent"  # one per class a broadcast goes to


async def record(
    ctx: Context,
    kind: str,
    topic: str | None = None,
    ref: str | None = None,
    value: int | None = None,
    anonymous: bool = False,
) -> None:
    """Record one participation event for the current user, tied to their (latest) class and school."""
    classes = await ctx.uow.classes.of_student(ctx.user.id)
    klass = classes[-1] if classes else None
    school_id = klass.school_id if klass else ctx.user.school_id
    await ctx.uow.activity.add(
        kind,
        ctx.now,
        None if anonymous else ctx.user.id,
        school_id,
        None if anonymous or klass is None else klass.id,
        topic,
        ref,
        value,
    )
