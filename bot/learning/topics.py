"""The five topics as users see them."""

from __future__ import annotations

from bot.content.models import TOPICS, Band
from bot.core.i18n import N_
from bot.learning.ports import Ctx

TOPIC_NAMES: dict[str, str] = {
    "ma-tuy": N_("💊 Phòng, chống ma túy"),
    "bao-luc-hoc-duong": N_("🤝 Phòng, chống bạo lực học đường"),
    "an-toan-giao-thong": N_("🚦 An toàn giao thông"),
    "phong-chay-chua-chay": N_("🔥 Phòng cháy, chữa cháy"),
    "an-toan-mang": N_("🌐 An toàn trên mạng"),
}
if tuple(TOPIC_NAMES) != TOPICS:  # the content's topic ids are fixed; a name for each, in the same order
    raise RuntimeError("TOPIC_NAMES and bot.content.models.TOPICS differ")


def topic_name(ctx: Ctx, topic: str) -> str:
    return ctx._(TOPIC_NAMES.get(topic, topic))


async def student_band(ctx: Ctx) -> Band | None:
    """The band of the student's class (by grade); None when the user has no class."""
    classes = await ctx.uow.classes.of_student(ctx.user.id)
    return Band.for_grade(classes[-1].grade) if classes else None
