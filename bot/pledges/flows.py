"""/camket for students and parents: the pledges of the student's school year, each read in full and confirmed
with one tap (a parent confirms for the child their parent link joined them to); staff get their own screens
(`bot.pledges.admin`)."""

from __future__ import annotations

from bot.accounts.consent import require_ready
from bot.accounts.menu import show_menu
from bot.core.clock import vn_time
from bot.core.errors import NO_NAME, Refusal
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.core.roles import Role
from bot.core.router import Router
from bot.pledges import admin
from bot.pledges import service as pledges
from bot.pledges.ports import PARENT, STUDENT, ConfirmationRec, Ctx, PledgeRec

router = Router()

LEGEND = N_("✅ đã ký · 🔄 nội dung đã sửa, cần ký lại · 📝 chưa ký · 🕒 chưa mở")


@router.command("pledge", "camket")
async def cmd_pledge(ctx: Ctx, _args: str) -> None:
    await on_list(ctx, "")


def _ints(arg: str, n: int) -> list[int]:
    parts = arg.split(".")
    if len(parts) != n or not all(p.isdigit() for p in parts):
        raise Refusal(pledges.NOT_FOUND)
    return [int(p) for p in parts]


async def _signer(ctx: Ctx, child_id: int | None) -> tuple[UserRec, str] | None:
    """Whose pledge this is and on which side: the student themselves, or a parent's linked child. None when the
    user is not ready (told why, taken to /start)."""
    if ctx.user.role == Role.PARENT:
        if child_id is None:
            raise Refusal(pledges.NOT_FOUND)
        return await pledges.child_of(ctx.uow, ctx.user, child_id), PARENT
    if ctx.is_staff or child_id is not None:
        raise Refusal(pledges.NOT_FOUND)
    if not await require_ready(ctx):
        return None
    return ctx.user, STUDENT


def _latest(found: list[ConfirmationRec], signer: str) -> ConfirmationRec | None:
    mine = [c for c in found if c.signer == signer]
    return max(mine, key=lambda c: c.version) if mine else None


def _mark(pledge: PledgeRec, latest: ConfirmationRec | None, now_state: str) -> str:
    if latest is not None and latest.version == pledge.version:
        return "✅"
    if now_state == "upcoming":
        return "🕒"
    return "🔄" if latest is not None else "📝"


@router.action("pledge.list")
async def on_list(ctx: Ctx, _arg: str) -> None:
    _ = ctx._
    if ctx.is_staff:
        await admin.show_home(ctx)
        return
    if ctx.user.role == Role.PARENT:
        await _parent_list(ctx)
        return
    if not await require_ready(ctx):
        return
    found = await pledges.current_for(ctx.uow, ctx.user.id, ctx.now)
    if not found:
        await show_menu(ctx, _("Hiện chưa có bản cam kết nào để em ký."))
        return
    options = []
    for pledge in found:
        latest = _latest(await ctx.uow.pledges.confirmations(pledge.id, ctx.user.id), STUDENT)
        options.append(
            (f"{_mark(pledge, latest, pledges.state(pledge, ctx.now))} {pledge.title}", f"pledge.read:{pledge.id}")
        )
    ctx.set_flow("pledge")
    ctx.ask(
        _("📝 Bản cam kết của trường em. Em chọn một bản để đọc:") + "\n" + _(LEGEND),
        options + [ctx.back_to_menu()],
        replace_previous=ctx.answering_prompt,
    )


async def _parent_list(ctx: Ctx) -> None:
    _ = ctx._
    children = await ctx.uow.pledges.children(ctx.user.id)
    if not children:
        await show_menu(
            ctx,
            _(
                "Tài khoản của anh/chị chưa được liên kết với con. Anh/chị mở mã dành cho phụ huynh "
                "(/start P_…) do giáo viên hoặc con gửi, rồi quay lại đây nhé."
            ),
        )
        return
    options = []
    for child in children:
        for pledge in await pledges.current_for(ctx.uow, child.id, ctx.now):
            latest = _latest(await ctx.uow.pledges.confirmations(pledge.id, child.id), PARENT)
            mark = _mark(pledge, latest, pledges.state(pledge, ctx.now))
            name = child.display_name or _(NO_NAME)
            options.append((f"{mark} {pledge.title} – {name}", f"pledge.read:{pledge.id}.{child.id}"))
    if not options:
        await show_menu(ctx, _("Hiện chưa có bản cam kết nào để anh/chị ký cùng con."))
        return
    ctx.set_flow("pledge")
    ctx.ask(
        _("📝 Bản cam kết nhà trường mời anh/chị ký cùng con. Anh/chị chọn một bản để đọc:") + "\n" + _(LEGEND),
        options + [ctx.back_to_menu()],
        replace_previous=ctx.answering_prompt,
    )


@router.action("pledge.read")
async def on_read(ctx: Ctx, arg: str) -> None:
    parent = ctx.user.role == Role.PARENT
    ids = _ints(arg, 2 if parent else 1)
    found = await _signer(ctx, ids[1] if parent else None)
    if found is None:
        return
    student, signer = found
    pledge = await pledges.readable(ctx.uow, ids[0], student.id)
    await _show(ctx, pledge, student, signer)


async def _show(ctx: Ctx, pledge: PledgeRec, student: UserRec, signer: str, prefix: str = "") -> None:
    _ = ctx._
    parent = signer == PARENT
    latest = _latest(await ctx.uow.pledges.confirmations(pledge.id, student.id), signer)
    now_state = pledges.state(pledge, ctx.now)
    lines = [prefix] if prefix else []
    lines += [
        f"📝 {pledge.title}",
        _("Phiên bản {v} · thời gian ký: {window}").format(v=pledge.version, window=pledges.window_text(pledge, _)),
    ]
    if parent:
        lines.append(_("Ký cùng con: {name}").format(name=student.display_name or _(NO_NAME)))
    lines += ["", pledge.text, ""]
    options: list[tuple[str, str]] = []
    if latest is not None and latest.version == pledge.version:
        lines.append(
            (_("✅ Anh/chị đã xác nhận lúc {at}.") if parent else _("✅ Em đã xác nhận lúc {at}.")).format(
                at=vn_time(latest.confirmed_at)
            )
        )
    elif now_state == "upcoming":
        lines.append(_("🕒 Bản cam kết mở để ký từ {start}.").format(start=vn_time(pledge.opens_at)))
    elif now_state == "closed":
        lines.append(_("Bản cam kết này đã hết hạn ký."))
    else:
        if latest is not None:
            lines.append(
                _("🔄 Nội dung đã được sửa sau lần xác nhận trước (phiên bản {v}). Mời đọc lại và xác nhận.").format(
                    v=latest.version
                )
            )
        label = _("✅ Tôi đã đọc và cùng con cam kết thực hiện") if parent else _("✅ Em đã đọc và cam kết thực hiện")
        child = f".{student.id}" if parent else ""
        options.append((label, f"pledge.sign:{pledge.id}.{pledge.version}{child}"))
    options += [(_("⬅️ Các bản cam kết"), "pledge.list"), ctx.back_to_menu()]
    ctx.set_flow("pledge")
    ctx.ask("\n".join(lines).strip(), options, replace_previous=ctx.answering_prompt)


@router.action("pledge.sign")
async def on_sign(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    parent = ctx.user.role == Role.PARENT
    ids = _ints(arg, 3 if parent else 2)
    found = await _signer(ctx, ids[2] if parent else None)
    if found is None:
        return
    student, signer = found
    pledge = await pledges.readable(ctx.uow, ids[0], student.id)
    if ids[1] != pledge.version and pledges.state(pledge, ctx.now) == "open":
        await _show(ctx, pledge, student, signer, _(pledges.CHANGED))
        return
    pledge, new = await pledges.confirm(ctx.uow, pledge.id, ids[1], student.id, signer, ctx.user, ctx.now, _)
    if new:
        text = (
            _("✅ Cảm ơn anh/chị! Nhà trường đã ghi nhận anh/chị cùng con {name} cam kết “{title}” lúc {at}.")
            if parent
            else _("✅ Cảm ơn em! Mình đã ghi nhận em cam kết “{title}” lúc {at}. Em nhớ thực hiện nhé!")
        ).format(name=student.display_name or "", title=pledge.title, at=vn_time(ctx.now))
    else:
        latest = _latest(await ctx.uow.pledges.confirmations(pledge.id, student.id), signer)
        at = vn_time(latest.confirmed_at) if latest else ""
        text = (
            _("Anh/chị đã xác nhận bản cam kết này lúc {at} rồi; nhà trường giữ nguyên một lần xác nhận.")
            if parent
            else _("Em đã xác nhận bản cam kết này lúc {at} rồi; mình giữ nguyên một lần xác nhận.")
        ).format(at=at)
    ctx.set_flow("pledge")
    ctx.ask(text, [(_("⬅️ Các bản cam kết"), "pledge.list"), ctx.back_to_menu()])
