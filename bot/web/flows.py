"""`/web` in the chat: a staff member gets a one-time link to the web console (no link preview, so no platform
fetches it; it is spent only by the button on the page it opens)."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.i18n import N_
from bot.core.roles import STAFF, Role, require_role
from bot.core.router import Router
from bot.web import page_flows
from bot.web.ports import WebEnv, WebUnitOfWork
from bot.web.service import LINK_TTL, sign_in_link

router = Router()
Ctx = Context[WebUnitOfWork, WebEnv]

NOT_ENABLED = N_("Trang quản lý trên web chưa được bật ở máy chủ này. Thầy/cô nhờ người quản trị đặt WEB_BASE_URL nhé.")
FOR_STAFF = N_("Trang quản lý trên web chỉ dành cho thầy cô và ban tổ chức.")


@router.command("web", "trangquanly")
async def cmd_web(ctx: Ctx, _args: str) -> None:
    _ = ctx._
    if ctx.user.role == Role.STUDENT and ctx.user.onboarded:  # a student gets the contest page instead
        await page_flows.open_current(ctx)  # type: ignore[arg-type]
        return
    require_role(ctx, *STAFF, message=FOR_STAFF)
    if not ctx.env.web_base_url:
        ctx.say(
            _("Trang quản lý trên web chưa được bật ở máy chủ này. Thầy/cô nhờ người quản trị đặt WEB_BASE_URL nhé.")
        )
        return
    link = await sign_in_link(ctx.uow, ctx.user, ctx.env.web_base_url, ctx.now)
    minutes = int(LINK_TTL.total_seconds() // 60)
    ctx.say(
        _(
            "🖥️ Đường dẫn đăng nhập trang quản lý (dùng được một lần, trong {m} phút):\n{link}\n\n"
            "Thầy/cô mở trên máy tính hoặc điện thoại rồi bấm “Đăng nhập”. Đừng chuyển đường dẫn này cho ai."
        ).format(m=minutes, link=link),
        link_preview=False,
    )


@router.action("web.link")
async def on_web(ctx: Ctx, _arg: str) -> None:
    await cmd_web(ctx, "")
