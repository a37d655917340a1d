"""Practice quiz: pick a topic, N questions, the score, then each wrong answer explained with its citation."""

from __future__ import annotations

import random

from bot.accounts.consent import require_ready
from bot.core import activity
from bot.core.i18n import N_
from bot.core.router import Router
from bot.learning import quiz
from bot.learning.ports import AttemptRec, Ctx
from bot.learning.topics import TOPIC_NAMES, student_band, topic_name

router = Router()


@router.command("practice", "luyentap")
async def cmd_practice(ctx: Ctx, _args: str) -> None:
    if await require_ready(ctx):
        await ask_topic(ctx)


@router.action("practice.topics")
async def ask_topic(ctx: Ctx, _arg: str = "") -> None:
    _ = ctx._
    ctx.set_flow("practice")
    ctx.ask(
        ctx.by_register(
            N_("✍️ Em muốn luyện tập chủ đề nào? Mỗi lượt có {n} câu."),
            N_("✍️ Thầy/cô muốn luyện tập chủ đề nào? Mỗi lượt có {n} câu."),
        ).format(n=ctx.env.practice_questions),
        [(topic_name(ctx, t), f"practice.topic:{t}") for t in TOPIC_NAMES] + [(_("⬅️ Về menu"), "menu")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("practice.topic")
async def on_topic(ctx: Ctx, topic: str) -> None:
    if not await require_ready(ctx):
        return
    _ = ctx._
    pool = ctx.env.content.questions_on(ctx.today, topic=topic, band=await student_band(ctx))
    if not pool:
        ctx.ask(
            _("Chủ đề này chưa có câu hỏi. Em chọn chủ đề khác nhé."),
            [(topic_name(ctx, t), f"practice.topic:{t}") for t in TOPIC_NAMES if t != topic],
        )
        return
    rng = random.SystemRandom()
    picked = rng.sample(pool, min(ctx.env.practice_questions, len(pool)))
    attempt = await quiz.start_attempt(ctx, "practice", picked, topic=topic, rng=rng)
    quiz.ask_question(ctx, attempt, 0, prefix=_("✍️ Luyện tập: {topic}").format(topic=topic_name(ctx, topic)))


async def practice_done(ctx: Ctx, attempt: AttemptRec, score: int) -> None:
    _ = ctx._
    await activity.record(ctx, activity.PRACTICE_FINISHED, topic=attempt.topic, ref=str(attempt.id), value=score)
    lines = [_("🏁 Em đúng {score}/{total} câu.").format(score=score, total=attempt.total)]
    notes = await quiz.wrong_answer_notes(ctx, attempt)
    if notes:
        lines.append(_("Các câu em cần xem lại:"))
        lines += notes
    else:
        lines.append(_("Tuyệt vời, em trả lời đúng hết! 🌟"))
    topic = attempt.topic or ""
    ctx.ask(
        "\n\n".join(lines),
        [
            (_("🔁 Luyện tiếp"), f"practice.topic:{topic}"),
            (_("📚 Học bài chủ đề này"), f"lessons.topic:{topic}"),
            (_("⬅️ Về menu"), "menu"),
        ],
    )
