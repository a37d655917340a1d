"""My progress: lessons finished and practice results, per topic."""

from __future__ import annotations

from bot.accounts.consent import require_ready
from bot.accounts.menu import menu_options
from bot.core.router import Router
from bot.learning.ports import Ctx
from bot.learning.topics import TOPIC_NAMES, student_band, topic_name

router = Router()


@router.command("progress", "tiendo")
async def cmd_progress(ctx: Ctx, _args: str) -> None:
    if not await require_ready(ctx):
        return
    _ = ctx._
    band = await student_band(ctx)
    progress = await ctx.uow.progress.for_user(ctx.user.id)
    done = {p.lesson_id for p in progress if p.completed_at}
    attempts = [a for a in await ctx.uow.attempts.for_user(ctx.user.id, "practice") if a.finished_at]
    lines = [_("📊 Tiến độ của em")]
    for topic in TOPIC_NAMES:
        available = ctx.env.content.lessons_on(ctx.today, topic=topic, band=band)
        finished = sum(1 for lesson in available if lesson.id in done)
        mine = [a for a in attempts if a.topic == topic]
        line = _("{topic}: {done}/{total} bài đã học").format(
            topic=topic_name(ctx, topic), done=finished, total=len(available)
        )
        if mine:
            best = max(mine, key=lambda a: (a.score or 0) / max(a.total, 1))
            line += _("; {n} lượt luyện tập, tốt nhất {score}/{total}").format(
                n=len(mine), score=best.score, total=best.total
            )
        lines.append(line)
    ctx.ask("\n".join(lines), menu_options(ctx), replace_previous=ctx.answering_prompt)


@router.action("progress.show")
async def on_progress(ctx: Ctx, _arg: str) -> None:
    await cmd_progress(ctx, "")
