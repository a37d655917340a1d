"""Help: what the bot does, and the hotlines 111/112/113/114/115 with when to call each."""

from __future__ import annotations

from bot.accounts.menu import menu_options
from bot.accounts.ports import Ctx
from bot.core import activity
from bot.core.router import Router

router = Router()


def help_text(ctx: Ctx) -> str:
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
            _("• 111 – Tổng đài bảo vệ trẻ em: khi em hoặc bạn bị bạo lực, xâm hại, bắt nạt, bỏ rơi."),
            _("• 112 – Khi có sự cố, thiên tai, cần tìm kiếm cứu nạn."),
            _("• 113 – Công an: khi có kẻ xấu, trộm cắp, đánh nhau, hoặc ai đó rủ em dùng ma túy."),
            _("• 114 – Cứu hỏa, cứu nạn: khi có cháy, nổ, người bị mắc kẹt hay đuối nước."),
            _("• 115 – Cấp cứu y tế: khi có người bị thương nặng hoặc ốm nguy kịch."),
            _("Khi gọi, em nói rõ: ở đâu, chuyện gì xảy ra, có ai bị thương không. Không gọi đùa nhé!"),
            _("Em cũng hãy kể ngay với bố mẹ hoặc thầy cô mà em tin tưởng."),
            "",
            _(
                "Các lệnh: /start bắt đầu, /menu các việc em làm được, /lessons học bài, /practice luyện tập, "
                "/progress tiến độ, /language đổi ngôn ngữ, /privacy dữ liệu của em, /cancel dừng việc đang làm."
            ),
        ]
    )


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
