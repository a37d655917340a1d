"""The answer to a practice or lesson-check question; the last answer hands the attempt to its kind's finisher."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.router import Router
from bot.learning import lessons, practice, quiz
from bot.learning.ports import Ctx

router = Router()

FINISHERS: Mapping[str, quiz.Finisher] = {
    "practice": practice.practice_done,
    "lesson_check": lessons.lesson_check_done,
}


@router.action("quiz.answer")
async def on_answer(ctx: Ctx, arg: str) -> None:
    await quiz.on_answer(ctx, arg, FINISHERS)
