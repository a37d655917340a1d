"""The quiz engine shared by practice and lesson checks: draw, shuffle, ask, record the first answer, score."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping

from bot.content.models import Question
from bot.core.errors import ALREADY_ANSWERED, UserFacingError
from bot.core.text import LETTERS
from bot.learning.ports import AttemptRec, Ctx

# What happens when an attempt of a kind ends (the practice summary, the lesson's completion): the flows that
# start attempts hand them in (`bot.learning.answers.FINISHERS`).
Finisher = Callable[[Ctx, AttemptRec, int], Awaitable[None]]


async def start_attempt(
    ctx: Ctx,
    kind: str,
    questions: list[Question],
    topic: str | None = None,
    ref: str | None = None,
    rng: random.Random | None = None,
) -> AttemptRec:
    rng = rng or random.SystemRandom()
    shown = []
    for q in questions:
        order = list(range(len(q.options)))
        rng.shuffle(order)
        shown.append([q.id, order])
    return await ctx.uow.attempts.create(ctx.user.id, kind, topic, ref, shown, ctx.now)


def question_of(ctx: Ctx, attempt: AttemptRec, seq: int) -> tuple[Question, list[int]]:
    qid, order = attempt.questions[seq]
    q = ctx.env.content.question(qid)
    if q is None:  # content changed under a running attempt
        raise UserFacingError(ctx._("Câu hỏi này không còn nữa. Em bắt đầu lượt mới nhé."))
    return q, list(order)


def ask_question(ctx: Ctx, attempt: AttemptRec, seq: int, prefix: str = "", toast: str = "") -> None:
    q, order = question_of(ctx, attempt, seq)
    _ = ctx._
    head = _("Câu {n}/{total}").format(n=seq + 1, total=attempt.total)
    text = f"{prefix}\n\n{head}\n{q.stem}".strip() if prefix else f"{head}\n{q.stem}"
    options = [(q.options[original], f"quiz.answer:{attempt.id}.{seq}.{pos}") for pos, original in enumerate(order)]
    ctx.set_flow("quiz", "answer", attempt=attempt.id)
    ctx.ask(text, options, lettered=True, replace_previous=ctx.answering_prompt, toast=toast)


async def on_answer(ctx: Ctx, arg: str, finishers: Mapping[str, Finisher]) -> None:
    _ = ctx._
    try:
        attempt_id, seq, pos = (int(x) for x in arg.split("."))
    except ValueError:
        raise ctx.stale() from None
    attempt = await ctx.uow.attempts.get(attempt_id)
    if attempt is None or attempt.user_id != ctx.user.id:
        raise ctx.stale()
    if attempt.finished_at is not None:
        raise UserFacingError(_("Lượt làm bài này đã kết thúc rồi."))
    answers = await ctx.uow.attempts.answers(attempt.id)
    if seq != len(answers):
        ctx.say(_(ALREADY_ANSWERED), toast=_(ALREADY_ANSWERED))
        return
    q, order = question_of(ctx, attempt, seq)
    if not 0 <= pos < len(order):
        raise ctx.stale()
    chosen = order[pos]
    correct = chosen == q.answer
    if not await ctx.uow.attempts.add_answer(attempt.id, seq, q.id, chosen, correct, ctx.now):
        ctx.say(_(ALREADY_ANSWERED), toast=_(ALREADY_ANSWERED))
        return
    feedback = _("✅ Đúng rồi!") if correct else _("❌ Chưa đúng.")
    if seq + 1 < attempt.total:
        ask_question(ctx, attempt, seq + 1, prefix=feedback, toast=feedback)
        return
    score = sum(1 for a in answers if a.correct) + (1 if correct else 0)
    await ctx.uow.attempts.finish(attempt.id, score, ctx.now)
    ctx.clear()
    ctx.say(feedback, toast=feedback, replace_previous=ctx.answering_prompt)
    await finishers[attempt.kind](ctx, attempt, score)


async def wrong_answer_notes(ctx: Ctx, attempt: AttemptRec) -> list[str]:
    """For each wrong answer: the question, the right answer, and the explanation with its citation."""
    _ = ctx._
    notes = []
    for a in await ctx.uow.attempts.answers(attempt.id):
        if a.correct:
            continue
        q = ctx.env.content.question(a.question_id)
        if q is None:
            continue
        order = attempt.questions[a.seq][1]
        letter = LETTERS[order.index(q.answer)]
        notes.append(
            _("Câu {n}: {stem}\n👉 Đáp án đúng: {letter}. {answer}\n{explanation}\n📖 {citation}").format(
                n=a.seq + 1,
                stem=q.stem,
                letter=letter,
                answer=q.options[q.answer],
                explanation=q.explanation,
                citation=ctx.env.content.cite(q.citation),
            )
        )
    return notes
