"""Help: what the bot does for this user's role, the commands by their Vietnamese names, and the hotlines (from
the content's one hotline file) with when to call each; the short help for text the bot did not understand."""

from __future__ import annotations

from bot.accounts.menu import menu_options
from bot.accounts.menus import command_names
from bot.accounts.ports import Ctx
from bot.core import activity, safety
from bot.core.i18n import N_
from bot.core.roles import Role
from bot.core.router import Router

router = Router()

_STAFF_COMMON = N_(
    "• {lessons}, {practice} – học bài và luyện tập như học sinh\n"
    "• {privacy} – dữ liệu của thầy/cô, {language} – đổi ngôn ngữ, {cancel} – dừng việc đang làm, {menu} – các việc "
    "thầy/cô làm được"
)
_MAILBOX_STAFF = N_("• {mailbox} – hộp thư an toàn: thầy/cô tư vấn đọc và trả lời thư học sinh gửi")
_STAFF_WEB = N_("• {web} – đường dẫn đăng nhập trang quản lý trên web (tổng quan, hội thi, kết quả)")
# What each staff role can do, with the commands that do it.
STAFF_HELP: dict[str, tuple[str, ...]] = {
    Role.TEACHER: (
        N_("👩‍🏫 Thầy/cô đang dùng tài khoản giáo viên. Thầy/cô có thể:"),
        N_("• {classes} – xem lớp của thầy/cô, mã lớp và học sinh trong lớp"),
        N_("• {newclass} – tạo lớp mới và nhận mã lớp để gửi cho học sinh"),
        N_("• {broadcast} – gửi bài học hoặc bài luyện tập cho lớp, rồi xem tiến độ của học sinh"),
        N_("• {linkclass} – gắn nhóm Telegram của lớp (gửi lệnh này trong nhóm)"),
        N_("• {pledge} – ký cam kết: lớp đã ký đến đâu, danh sách để in, nhắc các em chưa ký"),
        N_("• {report} – lập báo cáo 6 tháng, cả năm của lớp"),
        _MAILBOX_STAFF,
        _STAFF_WEB,
        _STAFF_COMMON,
    ),
    Role.SCHOOL_ADMIN: (
        N_("🏫 Thầy/cô đang dùng tài khoản quản trị trường. Thầy/cô có thể:"),
        N_("• {classes} – xem các lớp của trường, mã lớp và học sinh"),
        N_("• {newclass} – tạo lớp mới và nhận mã lớp"),
        N_("• {invite} – mời giáo viên của trường dùng bot"),
        N_("• {broadcast} – gửi bài cho các lớp, rồi xem tiến độ"),
        N_("• {linkclass} – gắn nhóm Telegram của lớp (gửi lệnh này trong nhóm)"),
        N_("• {pledge} – công bố bản cam kết cho trường, xem số đã ký theo lớp, nhắc người chưa ký"),
        N_("• {report} – lập báo cáo 6 tháng, cả năm của trường"),
        N_("• {counsellors} – chọn thầy/cô tư vấn đọc thư của hộp thư an toàn"),
        _MAILBOX_STAFF,
        _STAFF_WEB,
        _STAFF_COMMON,
    ),
    Role.ORGANIZER: (
        N_("🏆 Thầy/cô đang dùng tài khoản ban tổ chức. Thầy/cô có thể:"),
        N_("• {newschool} – thêm trường; {invite} – mời quản trị trường"),
        N_("• {contest} – tạo hội thi, mở và đóng đợt thi, xem và công bố kết quả"),
        N_("• {pledge} – công bố bản cam kết cho các trường, xem số đã ký theo trường, nhắc người chưa ký"),
        N_("• {report} – lập báo cáo 6 tháng, cả năm của các trường"),
        _STAFF_WEB,
        _STAFF_COMMON,
    ),
}


def hotlines(ctx: Ctx, with_when: bool = True) -> list[str]:
    understanding = ctx.env.content.understanding
    if understanding is None:
        return []
    if with_when:
        return safety.hotline_lines(understanding, ctx.user.locale)
    return [f"• {h.number} – {h.name_in(ctx.user.locale)}" for h in understanding.hotlines]


def student_help(ctx: Ctx) -> str:
    _ = ctx._
    return "\n".join(
        [
            _("🤖 Mình là trợ lý học pháp luật của nhà trường (một chương trình máy tính, không phải người thật)."),
            _(
                "Mình giúp em học bài về 5 chủ đề: phòng, chống ma túy; bạo lực học đường; an toàn giao thông; "
                "phòng cháy, chữa cháy; an toàn trên mạng. Em có thể luyện tập, thi tìm hiểu pháp luật và xem kết quả."
            ),
            "",
            _("📞 Khi cần giúp đỡ, em gọi (miễn phí):"),
            *hotlines(ctx),
            _("Khi gọi, em nói rõ: ở đâu, chuyện gì xảy ra, có ai bị thương không. Không gọi đùa nhé!"),
            _("Em cũng hãy kể ngay với bố mẹ hoặc thầy cô mà em tin tưởng."),
            _(
                "📮 Em muốn kể riêng với thầy/cô tư vấn của trường? Gõ {mailbox} (hộp thư an toàn), em có thể "
                "không ghi tên."
            ).format(**command_names(ctx.user.locale)),
            "",
            _(
                "Các lệnh: {start} bắt đầu, {menu} các việc em làm được, {lessons} học bài, {practice} luyện tập, "
                "{contest} hội thi, {assigned} bài được giao, {progress} tiến độ, {join} vào lớp, {language} đổi "
                "ngôn ngữ, {privacy} dữ liệu của em, {cancel} dừng việc đang làm."
            ).format(**command_names(ctx.user.locale)),
            _("Em cũng có thể gõ chữ, ví dụ: “học bài”, “luyện tập”, “thi”, “tiến độ”, “vào lớp K7M2QX”."),
            _("Khi nhà trường mời ký cam kết, em gõ {pledge} để đọc và xác nhận.").format(
                **command_names(ctx.user.locale)
            ),
        ]
    )


def staff_help(ctx: Ctx, lines: tuple[str, ...]) -> str:
    _ = ctx._
    return "\n".join(
        [
            _("🤖 Mình là trợ lý học pháp luật của nhà trường (một chương trình máy tính, không phải người thật)."),
            "",
            *(_(line).format(**command_names(ctx.user.locale)) for line in lines),
            "",
            _("📞 Số điện thoại khẩn cấp (miễn phí) để nhắc học sinh:"),
            *hotlines(ctx, with_when=False),
        ]
    )


def help_text(ctx: Ctx) -> str:
    lines = STAFF_HELP.get(ctx.user.role)
    return student_help(ctx) if lines is None else staff_help(ctx, lines)


@router.command("help", "trogiup")
async def cmd_help(ctx: Ctx, _args: str) -> None:
    await activity.record(ctx, activity.HELP_VIEWED, anonymous=True)
    ctx.ask(
        help_text(ctx),
        menu_options(ctx) if ctx.user.onboarded else [(ctx._("▶️ Bắt đầu"), "onboarding.start")],
    )


@router.action("help.show")
async def on_help(ctx: Ctx, _arg: str) -> None:
    await cmd_help(ctx, "")


@router.fallback
async def on_unexpected_text(ctx: Ctx, _text: str) -> None:
    """Text that is neither distress, a command word nor an intent: a short help and the menu (never the text)."""
    if not ctx.user.onboarded:
        ctx.ask(
            ctx._("Chào em! Mình là trợ lý học pháp luật của nhà trường. Em bấm “Bắt đầu” để bắt đầu nhé."),
            [(ctx._("▶️ Bắt đầu"), "onboarding.start")],
        )
        return
    hint = ctx.by_register(
        N_("Mình chưa hiểu ý em. Em có thể gõ “học bài”, “luyện tập”, “thi”, “tiến độ”, hoặc chọn một việc dưới đây:"),
        N_("Mình chưa hiểu ý thầy/cô. Thầy/cô chọn một việc dưới đây, hoặc gõ {help} để xem các lệnh:"),
    ).format(**command_names(ctx.user.locale))
    ctx.ask(hint, [*menu_options(ctx)])
