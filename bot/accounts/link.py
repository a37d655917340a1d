"""Account linking: `/link` gives a one-time code (15 minutes); `/link CODE` typed on another platform joins
that account to the user who asked for the code, so progress and roles are shared.

The rule is kept simple: the account that types the code must be new (no lessons, attempts, classes or staff
role); it is then removed and its channel account moves over. If it already has data, the student is told to
link the other way round; if both have data, nothing is merged (a teacher can help)."""

from __future__ import annotations

import datetime as dt

from bot.accounts.menu import show_menu
from bot.accounts.ports import Ctx
from bot.core.codes import new_code
from bot.core.errors import UserFacingError
from bot.core.roles import Role
from bot.core.router import Router
from bot.core.text import normalise_code

router = Router()

CODE_TTL = dt.timedelta(minutes=15)
PREFIX = "LK"  # 8 random characters after it: about 8·10¹¹ codes, each alive 15 minutes


@router.command("link", "lienket")
async def cmd_link(ctx: Ctx, args: str) -> None:
    if args.strip():
        await redeem(ctx, args)
    else:
        await give_code(ctx)


async def give_code(ctx: Ctx) -> None:
    _ = ctx._
    code = new_code(8, prefix=PREFIX)
    await ctx.uow.links.create_code(code, ctx.user.id, ctx.now + CODE_TTL, ctx.now)
    ctx.say(
        "\n".join(
            [
                _("🔗 Mã liên kết của em: {code}").format(code=code),
                _("Mã chỉ dùng được một lần, trong 15 phút. Đừng đưa mã cho ai khác nhé!"),
                "",
                _("Trên tài khoản còn lại (Telegram hoặc Zalo), em gõ:"),
                f"/link {code}",
                _("(hoặc: liên kết {code})").format(code=code),
                "",
                _("Sau đó hai tài khoản dùng chung tiến độ học, kết quả và vai trò."),
            ]
        )
    )


async def redeem(ctx: Ctx, raw_code: str) -> None:
    _ = ctx._
    invalid = _("Mã liên kết không đúng hoặc đã hết hạn. Em gõ /link trên tài khoản kia để lấy mã mới nhé.")
    code = normalise_code(raw_code)
    if not code.startswith(PREFIX):
        raise UserFacingError(invalid)
    link = await ctx.uow.links.by_code(code)
    if link is None or link.used_at is not None or link.expires_at < ctx.now:
        raise UserFacingError(invalid)
    if link.user_id == ctx.user.id:
        raise UserFacingError(
            _("Đây là mã của chính tài khoản này. Em gõ mã trên tài khoản Telegram hoặc Zalo còn lại nhé.")
        )
    target = await ctx.uow.users.get(link.user_id)
    if target is None:
        raise UserFacingError(invalid)
    if ctx.user.role != Role.STUDENT or await ctx.uow.links.learning_data(ctx.user.id):
        if target.role != Role.STUDENT or await ctx.uow.links.learning_data(target.id):
            raise UserFacingError(
                _("Cả hai tài khoản đều đã có dữ liệu học tập nên mình không gộp được. Em nhờ thầy cô giúp nhé.")
            )
        raise UserFacingError(
            _(
                "Tài khoản này đã có dữ liệu học tập. Em làm ngược lại nhé: gõ /link ở đây để lấy mã, "
                "rồi gõ mã đó trên tài khoản kia."
            )
        )
    if not await ctx.uow.links.use_code(link.id, ctx.now):
        raise UserFacingError(invalid)
    old_id = ctx.user.id
    await ctx.uow.links.move_accounts(old_id, target.id)
    await ctx.uow.links.delete_user(old_id)
    await ctx.uow.audit.add(
        target.id, "account.link", f"user:{target.id}", {"channel": ctx.event.address.channel}, ctx.now
    )
    # From here on this event belongs to the linked user (the dispatcher saves ctx.user's conversation).
    ctx.user = target
    ctx.conv = await ctx.uow.conversations.get(target.id)
    await show_menu(ctx, _("✅ Đã liên kết! Tài khoản này giờ dùng chung tiến độ và vai trò với tài khoản kia."))
