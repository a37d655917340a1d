"""Class group chats: a teacher links the class's group (`/linkclass CODE` sent in the group); lessons are posted
there with a link that opens them in each student's private chat, where students answer."""

from __future__ import annotations

from bot.content.models import Lesson
from bot.core.context import Context, UserFacingError
from bot.core.events import ChannelAddress, EventKind
from bot.core.i18n import I18n
from bot.core.ports import UnitOfWork
from bot.core.replies import Choice, ChoicePrompt, Reply
from bot.core.router import Router
from bot.core.services import accounts

router = Router()

# `/start L_<lesson id>` opens a lesson (deep links in group posts); Telegram allows 64 characters after start=.
LESSON_PAYLOAD = "L_"
_MAX_PAYLOAD = 64


def lesson_link(bot_username: str | None, lesson_id: str) -> str:
    payload = LESSON_PAYLOAD + lesson_id
    if not bot_username or len(payload) > _MAX_PAYLOAD:
        return ""
    return f"https://t.me/{bot_username}?start={payload}"


def private_chat_link(bot_username: str | None) -> str:
    return f"https://t.me/{bot_username}" if bot_username else ""


async def route_group(ctx: Context) -> None:
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


def _require_staff(ctx: Context) -> None:
    if ctx.user.role not in ("teacher", "school_admin"):
        raise UserFacingError(ctx._("Chỉ thầy cô chủ nhiệm mới gắn được nhóm này với lớp."))


async def link_class(ctx: Context, code: str) -> None:
    _ = ctx._
    _require_staff(ctx)
    if not code.strip():
        raise UserFacingError(_("Thầy/cô gõ kèm mã lớp nhé, ví dụ: /linkclass K7M2QX"))
    klass = await accounts.find_class(ctx, code)
    if klass is None:
        raise UserFacingError(_('Mã lớp "{code}" không đúng.').format(code=code.strip()[:20]))
    own = klass.teacher_id == ctx.user.id if ctx.user.role == "teacher" else klass.school_id == ctx.user.school_id
    if not own:
        raise UserFacingError(_("Thầy/cô chỉ gắn được nhóm với lớp của mình."))
    addr = ctx.event.address
    await ctx.uow.class_groups.link(klass.id, addr.channel, addr.chat_id, ctx.user.id, ctx.now)
    await ctx.uow.audit.add(ctx.user.id, "class.group_link", f"class:{klass.id}", {"channel": addr.channel}, ctx.now)
    ctx.say(
        _(
            "✅ Nhóm này đã được gắn với lớp {name}. Bài học thầy cô gửi cho lớp sẽ được đăng ở đây. "
            "Các em bấm nút dưới mỗi bài để học và trả lời trong tin nhắn riêng với mình nhé."
        ).format(name=klass.name)
    )


async def unlink_class(ctx: Context) -> None:
    _require_staff(ctx)
    addr = ctx.event.address
    class_id = await ctx.uow.class_groups.class_of(addr.channel, addr.chat_id)
    klass = await ctx.uow.classes.get(class_id) if class_id is not None else None
    if klass is None:
        raise UserFacingError(ctx._("Nhóm này chưa gắn với lớp nào."))
    own = klass.teacher_id == ctx.user.id if ctx.user.role == "teacher" else klass.school_id == ctx.user.school_id
    if not own:
        raise UserFacingError(ctx._("Thầy/cô chỉ gắn được nhóm với lớp của mình."))
    await ctx.uow.class_groups.unlink(addr.channel, addr.chat_id)
    await ctx.uow.audit.add(ctx.user.id, "class.group_unlink", f"class:{klass.id}", {"channel": addr.channel}, ctx.now)
    ctx.say(ctx._("Đã bỏ gắn nhóm này với lớp {name}.").format(name=klass.name))


@router.command("linkclass", "ganlop", "unlinkclass", "bogan")
async def cmd_link_in_private(ctx: Context, _args: str) -> None:
    _require_staff(ctx)
    ctx.say(
        ctx._("Thầy/cô thêm mình vào nhóm Telegram của lớp, rồi gửi lệnh /linkclass kèm mã lớp ngay trong nhóm đó nhé.")
    )


def lesson_post(i18n: I18n, lesson: Lesson, bot_username: str | None, locale: str = "vi") -> Reply:
    """A lesson announced in a class group: its title, a taste of the first card, and a button that opens it in
    the private chat (group limits allow about 20 messages a minute, so a post is one message)."""

    def _(message: str) -> str:
        return i18n.gettext(locale, message)

    first = lesson.cards[0].text if lesson.cards else ""
    if len(first) > 400:
        first = first[:400].rsplit(" ", 1)[0] + " …"
    lines = [_("📚 Bài học mới: {title}").format(title=lesson.title), "", first, ""]
    link = lesson_link(bot_username, lesson.id)
    if link:
        lines.append(_("Các em bấm nút dưới đây để học bài trong tin nhắn riêng với mình nhé."))
        return Reply(text="\n".join(lines), prompt=ChoicePrompt((Choice("", _("📖 Mở bài học"), url=link),)))
    lines.append(_("Các em nhắn /lessons cho mình để học bài này nhé."))
    return Reply(text="\n".join(lines))


async def lesson_posts_for_class(
    uow: UnitOfWork, i18n: I18n, lesson: Lesson, class_id: int, bot_username: str | None
) -> list[Reply]:
    """One post per group linked to the class, addressed to that group (for the broadcast sender)."""
    post = lesson_post(i18n, lesson, bot_username)
    replies = []
    for channel, chat_id in await uow.class_groups.for_class(class_id):
        to = ChannelAddress(channel, chat_id, chat_id, "group")
        replies.append(Reply(text=post.text, prompt=post.prompt, to=to))
    return replies
