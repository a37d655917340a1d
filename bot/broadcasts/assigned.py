"""Bài được giao: what teachers sent a student, with due dates and how far they got; opening one starts it."""

from __future__ import annotations

from bot.accounts.consent import require_ready
from bot.broadcasts import service as broadcasts
from bot.broadcasts.ports import Ctx
from bot.core.errors import UserFacingError
from bot.core.router import Router
from bot.learning import lessons, practice

router = Router()
MAX_ITEMS = 10


@router.command("assigned", "baiduocgiao")
async def cmd_assigned(ctx: Ctx, _args: str) -> None:
    await on_list(ctx, "")


@router.action("assigned.list")
async def on_list(ctx: Ctx, _arg: str) -> None:
    if not await require_ready(ctx):
        return
    _ = ctx._
    sent = (await ctx.uow.broadcasts.for_student(ctx.user.id))[:MAX_ITEMS]
    if not sent:
        ctx.ask(
            _("📋 Em chưa có bài nào được giao. Em vẫn có thể tự học bài nhé."),
            [(_("📚 Học bài"), "lessons.topics"), (_("⬅️ Về menu"), "menu")],
            replace_previous=ctx.answering_prompt,
        )
        return
    lines = [_("📋 Bài được giao:")]
    options = []
    for b in sent:
        learned = (await ctx.uow.broadcasts.learning(b, [ctx.user.id]))[ctx.user.id]
        mark = "✅" if learned.completed else ("📖" if learned.opened else "🆕")
        title = broadcasts.title_of(ctx.env.content, b.kind, b.ref, _)
        due = _(" – hạn {date}").format(date=b.due_on.strftime("%d/%m/%Y")) if b.due_on else ""
        state = _("đã hoàn thành") if learned.completed else (_("đang học") if learned.opened else _("chưa mở"))
        lines.append(f"{mark} {title}{due} ({state})")
        options.append((f"{mark} {title}", f"assigned.open:{b.id}"))
    ctx.set_flow("")
    ctx.ask("\n".join(lines), options + [(_("⬅️ Về menu"), "menu")], replace_previous=ctx.answering_prompt)


@router.action("assigned.open")
async def on_open(ctx: Ctx, arg: str) -> None:
    """Start what was assigned; only for a student it was sent to."""
    _ = ctx._
    b = await ctx.uow.broadcasts.get(int(arg)) if arg.isdigit() else None
    if b is None or b.id not in {x.id for x in await ctx.uow.broadcasts.for_student(ctx.user.id)}:
        raise UserFacingError(_("Không tìm thấy bài này. Em gõ “bài được giao” để xem các bài của em nhé."))
    if b.kind == "lesson":
        await lessons.open_lesson(ctx, b.ref)
    else:
        await practice.on_topic(ctx, b.ref)
