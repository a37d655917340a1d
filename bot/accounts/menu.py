"""The main menu, which depends on the user's role, and /cancel."""

from __future__ import annotations

from bot.accounts.ports import Ctx
from bot.core.roles import Role
from bot.core.router import Router

router = Router()


def menu_options(ctx: Ctx) -> list[tuple[str, str]]:
    _ = ctx._
    role = ctx.user.role
    learn = [(_("📚 Học bài"), "lessons.topics"), (_("✍️ Luyện tập"), "practice.topics")]
    if role == Role.ORGANIZER:
        return [
            (_("🏫 Các trường"), "staff.schools"),
            (_("➕ Thêm trường"), "staff.new_school"),
            (_("✉️ Mời quản trị trường"), "staff.invite_admin"),
            (_("🏆 Hội thi"), "contest.home"),
            (_("📝 Ký cam kết"), "pledge.admin"),
            (_("📄 Báo cáo"), "reports.menu"),
            (_("🛡️ Tiêu chuẩn ANTT"), "standard.home"),
            *learn,
            (_("🆘 Trợ giúp"), "help.show"),
        ]
    if role == Role.SCHOOL_ADMIN:
        return [
            (_("🏫 Các lớp của trường"), "staff.classes"),
            (_("➕ Tạo lớp"), "staff.new_class"),
            (_("📣 Gửi bài cho lớp"), "bc.new"),
            (_("📊 Tiến độ bài đã gửi"), "bc.list"),
            (_("✉️ Mời giáo viên"), "staff.invite_teacher"),
            (_("🤝 Thầy cô tư vấn"), "mailbox.counsellors"),
            (_("📮 Hộp thư an toàn"), "mailbox.home"),
            (_("📝 Ký cam kết"), "pledge.admin"),
            (_("📄 Báo cáo"), "reports.menu"),
            (_("🛡️ Tiêu chuẩn ANTT"), "standard.home"),
            *learn,
            (_("🆘 Trợ giúp"), "help.show"),
        ]
    if role == Role.TEACHER:
        return [
            (_("🏫 Lớp của tôi"), "staff.classes"),
            (_("➕ Tạo lớp"), "staff.new_class"),
            (_("📣 Gửi bài cho lớp"), "bc.new"),
            (_("📊 Tiến độ bài đã gửi"), "bc.list"),
            (_("📮 Hộp thư an toàn"), "mailbox.home"),
            (_("📝 Ký cam kết"), "pledge.admin"),
            *learn,
            (_("🆘 Trợ giúp"), "help.show"),
        ]
    if role == Role.PARENT:
        return [
            (_("📝 Ký cam kết cùng con"), "pledge.list"),
            (_("🔒 Dữ liệu của con"), "privacy.show"),
            (_("🆘 Trợ giúp"), "help.show"),
        ]
    return [
        *learn,
        (_("🏆 Hội thi"), "contest.home"),
        (_("📋 Bài được giao"), "assigned.list"),
        (_("📊 Tiến độ của em"), "progress.show"),
        (_("📝 Ký cam kết"), "pledge.list"),
        (_("🏫 Vào lớp"), "onboarding.ask_code"),
        (_("📮 Hộp thư an toàn"), "mailbox.home"),
        (_("🆘 Trợ giúp"), "help.show"),
    ]


async def show_menu(ctx: Ctx, prefix: str = "") -> None:
    _ = ctx._
    ctx.set_flow("")
    titles: dict[str, str] = {Role.STUDENT: _("Em muốn làm gì tiếp theo?"), Role.PARENT: _("Anh/chị muốn làm gì?")}
    title = titles.get(ctx.user.role, _("Thầy/cô muốn làm gì?"))
    ctx.ask(f"{prefix}\n\n{title}".strip() if prefix else title, menu_options(ctx))


@router.command("menu")
async def cmd_menu(ctx: Ctx, _args: str) -> None:
    await show_menu(ctx)


@router.action("menu")
async def on_menu(ctx: Ctx, _arg: str) -> None:
    await show_menu(ctx)


@router.command("cancel", "huy")
async def cmd_cancel(ctx: Ctx, _args: str) -> None:
    ctx.clear()
    await show_menu(ctx, ctx._("Đã dừng việc đang làm."))
