"""“Làm bài trên trang web” in the chat: a student gets the contest page for a round. On Telegram, in a private
chat, a Mini App button; in a group, the Mini App's direct link (nothing personal in it); elsewhere (Zalo, the
console, Telegram without HTTPS) a one-time link bound to the student and the round."""

from __future__ import annotations

from bot.contests import service as svc
from bot.core.context import Context
from bot.core.i18n import N_
from bot.core.replies import Choice, ChoicePrompt
from bot.core.router import Router
from bot.web.contest_page import LINK_TTL, MINI_APP_PATH, entry_link
from bot.web.page_ports import PageEnv, PageUnitOfWork

router = Router()
Ctx = Context[PageUnitOfWork, PageEnv]

OPEN_PAGE = N_("🌐 Làm bài trên trang web")
NOT_ENABLED = N_("Trang làm bài trên web chưa được bật ở máy chủ này. Em làm bài ngay trong chat nhé.")


def mini_app_link(bot_username: str | None, app_name: str, round_id: int) -> str:
    """The Mini App's direct link for a class group: t.me/<bot>/<app>?startapp=<round>."""
    if not bot_username or not app_name:
        return ""
    return f"https://t.me/{bot_username}/{app_name}?startapp={round_id}"


async def open_current(ctx: Ctx) -> None:
    """`/web` from a student: the page for the round of their running attempt, else for the one open round."""
    running = await ctx.uow.contests.running(ctx.user.id)
    round_id = running[-1][0].round_id if running else None
    if round_id is None:
        rounds = [r for _c, r, _g in await ctx.uow.contests.student_rounds(ctx.user.id)]
        opened = [r for r in rounds if svc.round_state(r, ctx.now) is svc.RoundState.OPEN]
        round_id = opened[0].id if len(opened) == 1 else None
    if round_id is None:
        ctx.say(ctx._("Em gõ “thi”, chọn đợt thi rồi chọn “Làm bài trên trang web” nhé."))
        return
    await on_open(ctx, str(round_id))


@router.action("page.open")
async def on_open(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    if not arg.isdigit():
        raise ctx.stale()
    round_id = int(arg)
    view = await ctx.uow.contests.student_round(round_id, ctx.user.id)
    if view is None or svc.round_state(view.round, ctx.now) is not svc.RoundState.OPEN:
        ctx.say(_("Đợt thi này không mở lúc này."))
        return
    base = ctx.env.web_base_url
    if not base:
        ctx.say(_(NOT_ENABLED))
        return
    address = ctx.event.address
    telegram = address.channel == "telegram"
    if telegram and address.chat_type != "private":
        link = mini_app_link(ctx.settings.bot_username, ctx.env.telegram_webapp_name, round_id)
        if link:
            ctx.say(_("🌐 Các bạn mở bài thi trên trang web bằng đường dẫn này:\n{link}").format(link=link))
        else:
            ctx.say(_("Em nhắn riêng cho bot rồi gõ “thi” để làm bài trên trang web nhé."))
        return
    if telegram and base.startswith("https://"):
        url = f"{base}{MINI_APP_PATH}?r={round_id}"
        ctx.say(
            _("🌐 Em bấm nút dưới đây để mở bài thi ngay trong Telegram. Câu trả lời nào đã lưu thì vẫn giữ nguyên."),
            prompt=ChoicePrompt((Choice("", _("🌐 Mở trang làm bài"), url=url, web_app=True),)),
        )
        return
    link = await entry_link(ctx.uow, ctx.user.id, round_id, base, ctx.now)
    minutes = int(LINK_TTL.total_seconds() // 60)
    ctx.say(
        _(
            "🌐 Đường dẫn làm bài trên trang web (dùng được một lần, trong {m} phút):\n{link}\n\n"
            "Em mở trên điện thoại rồi làm bài. Đừng chuyển đường dẫn này cho bạn khác nhé."
        ).format(m=minutes, link=link),
        link_preview=False,
    )
