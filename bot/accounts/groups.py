"""Class group chats: a teacher links the class's group (`/linkclass CODE` sent in the group); in a group only
the group commands work, and everyone is sent to the private chat, where students learn and answer. Lessons
are posted to linked groups by broadcasts (`bot.broadcasts.group_posts`)."""

from __future__ import annotations

from bot.accounts import service as accounts
from bot.accounts.ports import Ctx
from bot.core.errors import UserFacingError
from bot.core.events import EventKind
from bot.core.i18n import N_
from bot.core.replies import Choice, ChoicePrompt
from bot.core.roles import SCHOOL_STAFF, require_role
from bot.core.router import Router

router = Router()

ONLY_HOMEROOM = N_("Chỉ thầy cô chủ nhiệm mới gắn được nhóm này với lớp.")
NOT_YOUR_CLASS = N_("Thầy/cô chỉ gắn được nhóm với lớp của mình.")


def private_chat_link(bot_username: str | None) -> str:
    return f"https://t.me/{bot_username}" if bot_username else ""


@router.group_chat
async def route_group(ctx: Ctx, _arg: str) -> None:
    """In a group chat only the group commands work; learning and answers happen in the private chat."""
    event = ctx.event
    if event.kind is EventKind.COMMAND and event.command in ("linkclass", "ganlop"):
        await link_class(ctx, event.args)
        return
    if event.kind is EventKind.COMMAND and event.command in ("unlinkclass", "bogan"):
        await unlink_class(ctx)
        return
    _ = ctx._
    link = private_chat_link(ctx.settings.bot_username)
    text = _("Chào các em! 👋 Các em nhắn riêng cho mình để học bài, luyện tập và xem số điện thoại khẩn cấp nhé.")
    if link:
        ctx.say(text, prompt=ChoicePrompt((Choice("", _("💬 Nhắn riêng cho mình"), url=link),)))
    else:
        ctx.say(text)


async def link_class(ctx: Ctx, code: str) -> None:
    _ = ctx._
    require_role(ctx, *SCHOOL_STAFF, message=ONLY_HOMEROOM)
    if not code.strip():
        raise UserFacingError(_("Thầy/cô gõ kèm mã lớp nhé, ví dụ: /linkclass K7M2QX"))
    klass = await accounts.find_class(ctx, code)
    if klass is None:
        raise UserFacingError(_('Mã lớp "{code}" không đúng.').format(code=code.strip()[:20]))
    if not accounts.can_manage_class(ctx.user, klass):
        raise UserFacingError(_(NOT_YOUR_CLASS))
    addr = ctx.event.address
    await ctx.uow.class_groups.link(klass.id, addr.channel, addr.chat_id, ctx.user.id, ctx.now)
    await ctx.uow.audit.add(ctx.user.id, "class.group_link", f"class:{klass.id}", {"channel": addr.channel}, ctx.now)
    ctx.say(
        _(
            "✅ Nhóm này đã được gắn với lớp {name}. Bài học thầy cô gửi cho lớp sẽ được đăng ở đây. "
            "Các em bấm nút dưới mỗi bài để học và trả lời trong tin nhắn riêng với mình nhé."
        ).format(name=klass.name)
    )


async def unlink_class(ctx: Ctx) -> None:
    require_role(ctx, *SCHOOL_STAFF, message=ONLY_HOMEROOM)
    addr = ctx.event.address
    class_id = await ctx.uow.class_groups.class_of(addr.channel, addr.chat_id)
    klass = await ctx.uow.classes.get(class_id) if class_id is not None else None
    if klass is None:
        raise UserFacingError(ctx._("Nhóm này chưa gắn với lớp nào."))
    if not accounts.can_manage_class(ctx.user, klass):
        raise UserFacingError(ctx._(NOT_YOUR_CLASS))
    await ctx.uow.class_groups.unlink(addr.channel, addr.chat_id)
    await ctx.uow.audit.add(ctx.user.id, "class.group_unlink", f"class:{klass.id}", {"channel": addr.channel}, ctx.now)
    ctx.say(ctx._("Đã bỏ gắn nhóm này với lớp {name}.").format(name=klass.name))


@router.command("linkclass", "ganlop", "unlinkclass", "bogan")
async def cmd_link_in_private(ctx: Ctx, _args: str) -> None:
    require_role(ctx, *SCHOOL_STAFF, message=ONLY_HOMEROOM)
    ctx.say(
        ctx._("Thầy/cô thêm mình vào nhóm Telegram của lớp, rồi gửi lệnh /linkclass kèm mã lớp ngay trong nhóm đó nhé.")
    )
