"""Onboarding: language, the child's own agreement, joining a class by code (or deep link), a display name."""

from __future__ import annotations

from bot.accounts import consent
from bot.accounts import service as accounts
from bot.accounts.menu import show_menu
from bot.accounts.ports import ClassRec, Ctx
from bot.core.errors import UserFacingError
from bot.core.i18n import N_
from bot.core.roles import ROLE_NAMES, Role
from bot.core.router import Router

router = Router()


@router.command("start", "batdau")
async def cmd_start(ctx: Ctx, args: str) -> None:
    code = args.strip()[:64]
    # A payload another feature registered (a parent's consent link, a lesson posted in a class group).
    payload_handler = ctx.router.payload_handler(code) if code else None
    if payload_handler is not None:
        await payload_handler(ctx, code)
        return
    if not ctx.user.onboarded:
        ctx.set_flow("onboarding", "language", code=code)
        await ask_language(ctx, greeting=True)
        return
    if ctx.user.role == Role.STUDENT and not (await consent.consent_status(ctx.uow, ctx.user.id))[0]:
        # Consent was withdrawn: nothing is processed until the child agrees again.
        ctx.set_flow("onboarding", code=code)
        await ask_consent(ctx)
        return
    if code:
        await use_code(ctx, code)
        return
    await show_menu(ctx, ctx.by_register(N_("Chào mừng em quay lại! 👋"), N_("Chào mừng thầy/cô quay lại! 👋")))


@router.action("onboarding.start")
async def on_start(ctx: Ctx, _arg: str) -> None:
    await cmd_start(ctx, "")


async def ask_language(ctx: Ctx, greeting: bool = False) -> None:
    text = (
        "Xin chào! 👋 Mình là trợ lý học pháp luật của nhà trường.\nHello! I am the school's law-learning "
        "assistant.\n\n"
        if greeting
        else ""
    ) + "Em chọn ngôn ngữ nhé / Choose your language:"
    ctx.ask(text, [("Tiếng Việt", "onboarding.lang:vi"), ("English", "onboarding.lang:en")])


@router.command("language", "ngonngu")
async def cmd_language(ctx: Ctx, _args: str) -> None:
    if ctx.conv.flow != "onboarding":
        ctx.set_flow("language")
    await ask_language(ctx)


@router.action("onboarding.lang")
async def on_language(ctx: Ctx, locale: str) -> None:
    if locale not in ("vi", "en"):
        locale = "vi"
    await ctx.uow.users.update(ctx.user.id, locale=locale)
    ctx.user.locale = locale
    _ = ctx._
    if ctx.conv.flow != "onboarding":
        await show_menu(ctx, _("Đã đổi ngôn ngữ sang Tiếng Việt.") if locale == "vi" else _("Đã đổi ngôn ngữ."))
        return
    code = str(ctx.conv.data.get("code", ""))
    if code:
        try:
            role = await accounts.redeem_invite(ctx, code)
        except UserFacingError as exc:
            ctx.say(str(exc))
            role = None
        if role is not None:
            ctx.set_flow("onboarding", "onboarding.name")
            ctx.say(_("Chào thầy/cô! Thầy/cô đã được nhận vai trò {role}.").format(role=_(ROLE_NAMES.get(role, role))))
            ctx.ask(
                _("Thầy/cô gõ họ và tên để học sinh và đồng nghiệp nhận ra nhé."),
                [(_("Hủy"), "onboarding.cancel")],
            )
            return
    await ask_consent(ctx)


async def ask_consent(ctx: Ctx) -> None:
    _ = ctx._
    ctx.conv.step = "consent"
    ctx.ask(
        "\n".join(
            [
                _("Trước khi bắt đầu, em đọc cùng bố mẹ nhé:"),
                _("• Mình chỉ lưu: tên em gõ, lớp của em, bài em đã học và điểm luyện tập, thi."),
                _("• Mình không hỏi số điện thoại, địa chỉ, ngày sinh hay ảnh của em."),
                _("• Chỉ thầy cô của lớp em và ban tổ chức hội thi xem được kết quả của em."),
                _("• Em và bố mẹ có thể xem, xin bản sao hoặc xóa dữ liệu bất cứ lúc nào (gõ /privacy)."),
                "",
                _("Em có đồng ý không?"),
            ]
        ),
        [(_("✅ Em đồng ý"), "onboarding.consent:yes"), (_("Em chưa đồng ý"), "onboarding.consent:no")],
    )


@router.action("onboarding.consent")
async def on_consent(ctx: Ctx, answer: str) -> None:
    _ = ctx._
    if answer != "yes":
        ctx.clear()
        ctx.say(
            _(
                "Không sao cả. Khi nào em và bố mẹ đồng ý, em gõ /start nhé. "
                "Em vẫn có thể gõ /help để xem các số điện thoại khẩn cấp."
            )
        )
        return
    if ctx.conv.flow != "onboarding":
        raise ctx.stale()
    if not (await consent.consent_status(ctx.uow, ctx.user.id))[0]:
        await consent.record_child(ctx)
    code = str(ctx.conv.data.get("code", ""))
    if ctx.user.onboarded and not code:
        await show_menu(ctx, _("Cảm ơn em! Em lại học cùng mình được rồi."))
        return
    if code:
        klass = await accounts.find_class(ctx, code)
        if klass is not None:
            await _joined(ctx, klass)
            return
        ctx.say(_("Mã lớp trong đường link không đúng hoặc lớp đã đóng."))
    await ask_code(ctx)


async def ask_code(ctx: Ctx) -> None:
    _ = ctx._
    ctx.set_flow("onboarding", "onboarding.code")
    ctx.ask(_("Em gõ mã lớp mà thầy cô gửi (ví dụ: K7M2QX) nhé."), [(_("Bỏ qua, vào lớp sau"), "onboarding.skip")])


@router.action("onboarding.ask_code")
async def on_ask_code(ctx: Ctx, _arg: str) -> None:
    if not ctx.user.onboarded:
        await cmd_start(ctx, "")
        return
    await ask_code(ctx)


@router.command("join", "vaolop")
async def cmd_join(ctx: Ctx, args: str) -> None:
    if args.strip():
        await use_code(ctx, args)
    else:
        await on_ask_code(ctx, "")


@router.text("onboarding.code")
async def on_code_text(ctx: Ctx, text: str) -> None:
    _ = ctx._
    klass = await accounts.find_class(ctx, text)
    if klass is None:
        ctx.repeat_prompt(
            _('Mã lớp "{code}" không đúng. Em kiểm tra lại với thầy cô nhé.').format(code=text.strip()[:20])
        )
        return
    await _joined(ctx, klass)


@router.action("onboarding.skip")
async def on_skip(ctx: Ctx, _arg: str) -> None:
    await _finish(ctx)


async def _joined(ctx: Ctx, klass: ClassRec) -> None:
    _ = ctx._
    added = await accounts.join_class(ctx, klass)
    school = await ctx.uow.schools.get(klass.school_id)
    msg = (_("🎉 Em đã vào lớp {name} – {school}.") if added else _("Em đã ở trong lớp {name} – {school} rồi.")).format(
        name=klass.name, school=school.name if school else ""
    )
    if ctx.user.display_name:
        await _finish(ctx, msg)
        return
    ctx.say(msg)
    ctx.set_flow("onboarding", "onboarding.name")
    ctx.ask(
        _("Em gõ họ và tên của em để thầy cô nhận ra nhé (ví dụ: Nguyễn Văn An)."),
        [(_("Hủy"), "onboarding.cancel")],
    )


@router.text("onboarding.name")
async def on_name(ctx: Ctx, text: str) -> None:
    _ = ctx._
    name = accounts.clean_display_name(text)
    if name is None:
        ctx.repeat_prompt(
            ctx.by_register(
                N_("Tên chỉ gồm chữ cái và khoảng trắng, từ 2 đến 60 ký tự, không có chữ số. Em gõ lại nhé."),
                N_("Tên chỉ gồm chữ cái và khoảng trắng, từ 2 đến 60 ký tự, không có chữ số. Thầy/cô gõ lại nhé."),
            )
        )
        return
    await ctx.uow.users.update(ctx.user.id, display_name=name)
    ctx.user.display_name = name
    await _finish(ctx, _("Cảm ơn {name}!").format(name=name))


@router.action("onboarding.cancel")
async def on_cancel(ctx: Ctx, _arg: str) -> None:
    await _finish(ctx)


async def _finish(ctx: Ctx, prefix: str = "") -> None:
    if not ctx.user.onboarded:
        await ctx.uow.users.update(ctx.user.id, onboarded=True)
        ctx.user.onboarded = True
    await show_menu(ctx, prefix)


async def use_code(ctx: Ctx, code: str) -> None:
    """A code given after onboarding (deep link or /join): an invite or a class code."""
    _ = ctx._
    role = await accounts.redeem_invite(ctx, code)
    if role is not None:
        await show_menu(ctx, _("Thầy/cô đã được nhận vai trò {role}.").format(role=_(ROLE_NAMES.get(role, role))))
        return
    klass = await accounts.find_class(ctx, code)
    if klass is None:
        raise UserFacingError(
            ctx.by_register(
                N_('Mã "{code}" không đúng. Em kiểm tra lại với thầy cô nhé.'),
                N_('Mã "{code}" không đúng. Thầy/cô kiểm tra lại mã nhé.'),
            ).format(code=code.strip()[:20])
        )
    await _joined(ctx, klass)
