"""The five topics as users see them."""

from __future__ import annotations

from bot.content.models import TOPICS, Band
from bot.core.context import Context
from bot.core.i18n import N_
from bot.core.ports import ConsentRec

TOPIC_NAMES: dict[str, str] = {
    "ma-tuy": N_("💊 Phòng, chống ma túy"),
    "bao-luc-hoc-duong": N_("🤝 Phòng, chống bạo lực học đường"),
    "an-toan-giao-thong": N_("🚦 An toàn giao thông"),
    "phong-chay-chua-chay": N_("🔥 Phòng cháy, chữa cháy"),
    "an-toan-mang": N_("🌐 An toàn trên mạng"),
}
assert tuple(TOPIC_NAMES) == TOPICS


def topic_name(ctx: Context, topic: str) -> str:
    return ctx._(TOPIC_NAMES.get(topic, topic))


async def student_band(ctx: Context) -> Band | None:
    """The band of the student's class (by grade); None when the user has no class."""
    classes = await ctx.uow.classes.of_student(ctx.user.id)
    return Band.for_grade(classes[-1].grade) if classes else None


async def require_ready(ctx: Context, consents: list[ConsentRec] | None = None) -> bool:
    """Learning needs a finished onboarding and, for a student, the child's own agreement still in force
    (withdrawing it stops all processing). `consents`: the user's active consents, when the caller read them."""
    from bot.core.flows.onboarding import cmd_start
    from bot.core.services.consent import consent_status, status_of

    if ctx.user.onboarded:
        if ctx.user.role != "student":
            return True
        if (status_of(consents) if consents is not None else await consent_status(ctx.uow, ctx.user.id))[0]:
            return True
        ctx.say(ctx._("Em đã rút lại đồng ý nên mình tạm dừng. Nếu em và bố mẹ muốn học tiếp, em đồng ý lại nhé."))
        await cmd_start(ctx, "")
        return False
    ctx.say(ctx._("Em cần bắt đầu và đồng ý với nội quy trước khi học nhé."))
    await cmd_start(ctx, "")
    return False
