"""Privacy: /privacy (what is kept, why, who sees it, how long, the rights; a copy, withdrawal, deletion),
/consent for teachers (the signed paper form, or a code for the parent), and the parent's own consent link."""

from __future__ import annotations

from bot.accounts.consent import consent_status
from bot.accounts.menu import show_menu
from bot.accounts.ports import ClassRec
from bot.accounts.service import can_manage_class
from bot.core.errors import NO_NAME, UserFacingError
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.core.roles import SCHOOL_STAFF, STAFF, Role, require_role
from bot.core.router import Router
from bot.privacy import consent
from bot.privacy import service as privacy
from bot.privacy.ports import Ctx

router = Router()

FOR_TEACHERS = N_("Chức năng này chỉ dành cho thầy cô.")


def notice_lines(ctx: Ctx, for_parent: bool = False) -> list[str]:
    """The privacy notice in plain words. Legal references are limited to what has been confirmed."""
    _ = ctx._
    days = ctx.env.retention_days
    if for_parent:
        return [
            _("🔒 Dữ liệu của con trên trợ lý học pháp luật"),
            _(
                "• Lưu gì: tên con gõ, lớp và trường, bài con đã học, câu trả lời và điểm luyện tập, thi, thời gian "
                "con dùng bot, mã tài khoản Telegram/Zalo để trả lời con."
            ),
            _(
                "• Ký cam kết: khi anh/chị hoặc con xác nhận một bản cam kết của trường, nhà trường lưu thời điểm và "
                "phiên bản đã xác nhận; giáo viên lớp của con xem được, ban tổ chức chỉ xem con số."
            ),
            _("• Không thu thập: số điện thoại, địa chỉ, ngày sinh, ảnh, vị trí của con."),
            _(
                "• Để làm gì: để con học, luyện tập, dự thi; để thầy cô theo dõi việc học; để nhà trường báo cáo số "
                "lượt tham gia (chỉ con số, không có tên)."
            ),
            _(
                "• Ai xem được: con, phụ huynh, giáo viên lớp của con, người phụ trách của trường; kết quả hội thi "
                "do ban tổ chức xem."
            ),
            _(
                "• Hộp thư an toàn: nếu con viết thư cho thầy/cô tư vấn của trường, chỉ thầy/cô tư vấn đọc được thư; "
                "thư không có trong bản sao dữ liệu phụ huynh nhận. Thư được xóa {days} ngày sau khi đã xong."
            ).format(days=ctx.env.mailbox_retention_days),
            _(
                "• Giữ bao lâu: khi con không dùng bot {days} ngày, dữ liệu được tự động xóa; bài làm cũ hơn {days} "
                "ngày cũng được xóa, chỉ giữ số liệu thống kê không có tên."
            ).format(days=days),
            _(
                "• Quyền của anh/chị và con: xem và nhận bản sao dữ liệu, rút lại sự đồng ý bất cứ lúc nào, yêu cầu "
                "xóa dữ liệu; gõ /privacy để làm những việc này."
            ),
            _(
                "• Theo Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15 (hiệu lực từ 01/01/2026), cha mẹ hoặc người "
                "giám hộ thay mặt trẻ em thực hiện các quyền về dữ liệu (khoản 2 Điều 24); khi sự đồng ý được rút "
                "lại, việc xử lý dữ liệu của trẻ phải dừng (khoản 3 Điều 24); im lặng không được coi là đồng ý "
                "(Điều 9)."
            ),
            _("• Liên hệ: giáo viên chủ nhiệm hoặc người phụ trách của nhà trường."),
        ]
    return [
        _("🔒 Dữ liệu của em"),
        _(
            "• Mình lưu: tên em gõ, lớp và trường của em, bài em đã học, câu trả lời và điểm luyện tập, thi, lúc em "
            "dùng bot, và mã tài khoản Telegram/Zalo để trả lời em."
        ),
        _("• Khi em ký cam kết của trường, mình lưu lúc em xác nhận và phiên bản em đã đọc; thầy cô lớp em xem được."),
        _("• Mình không hỏi số điện thoại, địa chỉ, ngày sinh hay ảnh của em."),
        _(
            "• Để làm gì: để em học, luyện tập và dự thi; để thầy cô biết em học đến đâu; để nhà trường báo cáo số "
            "bạn tham gia (chỉ con số, không có tên)."
        ),
        _(
            "• Ai xem được: em, bố mẹ em, thầy cô lớp em và người phụ trách của trường; kết quả hội thi thì ban tổ "
            "chức xem."
        ),
        _(
            "• Hộp thư an toàn: khi em viết thư cho thầy/cô tư vấn, mình giữ loại chuyện, lời em viết, lời thầy/cô "
            "trả lời và mã tài khoản của em để chuyển lời trả lời đến em. Chỉ thầy/cô tư vấn của trường em đọc được "
            "thư; nếu em gửi ẩn danh, thầy/cô không thấy tên em. Thầy cô chủ nhiệm, bố mẹ và ban tổ chức không đọc "
            "được thư (ban tổ chức chỉ thấy số thư theo loại, không có tên). Thư được xóa {days} ngày sau khi thầy/cô "
            "đánh dấu đã xong; bản sao dữ liệu em tự yêu cầu có thư của em."
        ).format(days=ctx.env.mailbox_retention_days),
        _(
            "• Giữ bao lâu: nếu em không dùng bot {days} ngày, mình tự xóa dữ liệu của em; bài làm cũ hơn {days} "
            "ngày cũng được xóa."
        ).format(days=days),
        _(
            "• Quyền của em và bố mẹ: xem và nhận bản sao dữ liệu, rút lại đồng ý bất cứ lúc nào (khi đó mình dừng "
            "xử lý dữ liệu của em), xóa dữ liệu."
        ),
        _(
            "• Luật Bảo vệ dữ liệu cá nhân (số 91/2025/QH15) bảo vệ dữ liệu của em: bố mẹ thay mặt em thực hiện các "
            "quyền này, và khi rút lại đồng ý thì việc xử lý dữ liệu phải dừng (Điều 24)."
        ),
        _("• Cần hỏi thêm: em hỏi thầy cô chủ nhiệm nhé."),
    ]


def _staff_notice_lines(ctx: Ctx) -> list[str]:
    """What a teacher, a school admin or an organizer reads about their own data (addressed as thầy/cô)."""
    _ = ctx._
    return [
        _("🔒 Dữ liệu của thầy/cô"),
        _(
            "• Mình lưu: tên thầy/cô gõ, vai trò, trường và các lớp thầy/cô phụ trách, những việc thầy/cô làm trên "
            "bot (tạo lớp, gửi bài, ghi nhận đồng ý…) để nhà trường kiểm tra khi cần, và mã tài khoản Telegram/Zalo "
            "để trả lời thầy/cô."
        ),
        _(
            "• Hộp thư an toàn: thầy/cô tư vấn đọc thư học sinh gửi; mỗi lần đọc được ghi vào nhật ký kiểm toán (ai, "
            "thư nào, lúc nào). Thư và lời trả lời không có trong bản sao dữ liệu của thầy/cô, và được xóa {days} ngày "
            "sau khi đánh dấu đã xong."
        ).format(days=ctx.env.mailbox_retention_days),
        _(
            "• Thầy/cô nhận bản sao dữ liệu bằng nút dưới đây; cần sửa hay xóa, thầy/cô liên hệ người phụ trách của "
            "nhà trường."
        ),
    ]


def _status_line(ctx: Ctx, child: bool, guardian: bool) -> str:
    _ = ctx._
    return _("Đồng ý của em: {child}. Đồng ý của bố mẹ: {guardian}.").format(
        child="✅" if child else _("chưa có"), guardian="✅" if guardian else _("chưa có")
    )


@router.command("privacy", "quyenriengtu")
async def cmd_privacy(ctx: Ctx, _args: str) -> None:
    _ = ctx._
    user = ctx.user
    ctx.set_flow("privacy")
    if user.role == Role.PARENT:
        children = await ctx.uow.privacy.children_of(user.id)
        lines = notice_lines(ctx, for_parent=True)
        options = [
            (_("👧 Dữ liệu của con: {name}").format(name=c.display_name or _(NO_NAME)), f"privacy.child:{c.id}")
            for c in children
        ]
        options += [(_("🗑 Xóa tài khoản của tôi"), f"privacy.erase_ask:{user.id}"), (_("⬅️ Về menu"), "menu")]
        ctx.ask("\n".join(lines), options)
        return
    lines = notice_lines(ctx)
    if user.role in STAFF:
        lines = _staff_notice_lines(ctx)
        lines.append(_("Thầy/cô ghi nhận đồng ý của phụ huynh bằng lệnh /consent."))
        ctx.ask(
            "\n".join(lines), [(_("📦 Nhận bản sao dữ liệu"), f"privacy.export:{user.id}"), (_("⬅️ Về menu"), "menu")]
        )
        return
    child, guardian = await consent_status(ctx.uow, user.id)
    lines += ["", _status_line(ctx, child, guardian)]
    options = [(_("📦 Nhận bản sao dữ liệu"), f"privacy.export:{user.id}")]
    if child and not guardian:
        options.append((_("👪 Mã để bố mẹ đồng ý"), "privacy.parent_code"))
    if child or guardian:
        options.append((_("↩️ Rút lại đồng ý"), f"privacy.withdraw_ask:{user.id}"))
    options += [(_("🗑 Xóa dữ liệu của em"), f"privacy.erase_ask:{user.id}"), (_("⬅️ Về menu"), "menu")]
    ctx.ask("\n".join(lines), options)


@router.action("privacy.show")
async def on_show(ctx: Ctx, _arg: str) -> None:
    await cmd_privacy(ctx, "")


async def _subject(ctx: Ctx, arg: str) -> UserRec:
    """Whose data an action is about: one's own, or (for a parent) a child they consented for. Checked on
    the server every time, whatever the button said."""
    _ = ctx._
    if not arg.isdigit():
        raise ctx.stale()
    target = int(arg)
    if target == ctx.user.id:
        return ctx.user
    if ctx.user.role == Role.PARENT:
        for child in await ctx.uow.privacy.children_of(ctx.user.id):
            if child.id == target:
                return child
    raise ctx.stale()


@router.action("privacy.child")
async def on_child(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    child = await _subject(ctx, arg)
    has_child, has_guardian = await consent_status(ctx.uow, child.id)
    options = [(_("📦 Nhận bản sao dữ liệu của con"), f"privacy.export:{child.id}")]
    if has_child or has_guardian:
        options.append((_("↩️ Rút lại đồng ý"), f"privacy.withdraw_ask:{child.id}"))
    options += [(_("🗑 Xóa dữ liệu của con"), f"privacy.erase_ask:{child.id}"), (_("⬅️ Về menu"), "menu")]
    ctx.ask(
        _("Con: {name}. Đồng ý của con: {child}. Đồng ý của phụ huynh: {guardian}.").format(
            name=child.display_name or _(NO_NAME),
            child="✅" if has_child else _("chưa có"),
            guardian="✅" if has_guardian else _("chưa có"),
        ),
        options,
    )


@router.action("privacy.export")
async def on_export(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    subject = await _subject(ctx, arg)
    attachment = await privacy.export_attachment(ctx, subject)
    ctx.say(
        ctx.by_register(
            N_(
                "📦 Đây là bản sao toàn bộ dữ liệu mình đang lưu (tệp JSON). Em giữ tệp này cẩn thận, đừng gửi cho "
                "người lạ nhé."
            ),
            N_(
                "📦 Đây là bản sao toàn bộ dữ liệu mình đang lưu (tệp JSON). Thầy/cô giữ tệp này cẩn thận, đừng gửi "
                "cho người lạ nhé."
            ),
        ),
        attachments=(attachment,),
    )
    await show_menu(ctx)


def _sure(ctx: Ctx) -> str:
    return ctx._("Anh/chị chắc chắn chứ?") if ctx.user.role == Role.PARENT else ctx._("Em chắc chắn chứ?")


@router.action("privacy.withdraw_ask")
async def on_withdraw_ask(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    subject = await _subject(ctx, arg)
    ctx.ask(
        _(
            "Nếu rút lại đồng ý, mình sẽ dừng xử lý dữ liệu: không học, luyện tập hay dự thi được nữa, "
            "và dữ liệu sẽ được xóa."
        )
        + "\n\n"
        + _sure(ctx),
        [(_("↩️ Rút lại đồng ý"), f"privacy.withdraw:{subject.id}"), (_("Không, giữ nguyên"), "menu")],
    )


@router.action("privacy.withdraw")
async def on_withdraw(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    subject = await _subject(ctx, arg)
    await consent.withdraw(ctx, subject.id)
    ctx.clear()
    ctx.say(
        _(
            "Đã rút lại đồng ý. Mình đã dừng xử lý dữ liệu và đã ghi yêu cầu xóa dữ liệu; nhà trường sẽ xóa "
            "sớm nhất có thể. Muốn dùng lại thì gõ /start nhé."
        )
    )


@router.action("privacy.erase_ask")
async def on_erase_ask(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    subject = await _subject(ctx, arg)
    ctx.ask(
        _(
            "Xóa dữ liệu nghĩa là xóa tên, lớp, bài đã học, câu trả lời và điểm; không lấy lại được. "
            "Nhà trường chỉ còn giữ các con số thống kê không có tên."
        )
        + "\n\n"
        + _sure(ctx),
        [(_("🗑 Xóa hết"), f"privacy.erase:{subject.id}"), (_("Không xóa"), "menu")],
    )


@router.action("privacy.erase")
async def on_erase(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    subject = await _subject(ctx, arg)
    await privacy.erase_user(ctx.uow, subject.id, ctx.user.id, ctx.now)
    ctx.clear()
    if subject.id == ctx.user.id:
        ctx.user.display_name, ctx.user.onboarded = None, False
        ctx.say(_("🗑 Đã xóa dữ liệu. Tạm biệt! Nếu muốn dùng lại, gõ /start nhé."))
    else:
        ctx.say(_("🗑 Đã xóa dữ liệu của con."))


@router.action("privacy.parent_code")
async def on_parent_code(ctx: Ctx, _arg: str) -> None:
    _ = ctx._
    child, guardian = await consent_status(ctx.uow, ctx.user.id)
    if not child or guardian or ctx.user.role != Role.STUDENT:
        raise ctx.stale()
    await _show_parent_code(ctx, ctx.user, _("Em gửi tin nhắn này cho bố mẹ nhé:"))


async def _show_parent_code(ctx: Ctx, student: UserRec, intro: str) -> None:
    _ = ctx._
    code = await consent.create_parent_link(ctx, student)
    lines = [
        intro,
        _("Bố mẹ mở trợ lý học pháp luật trên điện thoại của bố mẹ (Telegram hoặc Zalo) và gõ: /start {code}").format(
            code=code
        ),
        _("Mã dùng được một lần, trong {days} ngày.").format(days=consent.PARENT_LINK_TTL.days),
    ]
    link = ctx.deep_link(code)
    if link:
        lines.append(link)
    ctx.say("\n".join(lines))  # a message of its own, so it can be forwarded as it is
    await show_menu(ctx)


# The parent's side: `/start P_<code>` on the parent's own account.


@router.payload(consent.PARENT_PREFIX)
async def parent_start(ctx: Ctx, raw: str) -> None:
    _ = ctx._
    student = await consent.open_parent_link(ctx, raw)
    classes = await ctx.uow.classes.of_student(student.id)
    where = ""
    if classes:
        school = await ctx.uow.schools.get(classes[-1].school_id)
        where = _(" (lớp {klass}, {school})").format(klass=classes[-1].name, school=school.name if school else "")
    ctx.set_flow("parent", code=raw.strip()[:40])
    lines = [
        _("Kính chào quý phụ huynh! 👋"),
        _(
            "Nhà trường xin phép cho con {name}{where} dùng trợ lý học pháp luật của trường và tham gia hội thi tìm "
            "hiểu pháp luật."
        ).format(name=student.display_name or _("của anh/chị"), where=where),
        "",
        *notice_lines(ctx, for_parent=True),
        "",
        _("Anh/chị có đồng ý không? Mình chỉ ghi nhận khi anh/chị bấm “Tôi đồng ý”."),
    ]
    ctx.ask(
        "\n".join(lines), [(_("✅ Tôi đồng ý"), "privacy.parent_yes"), (_("Tôi không đồng ý"), "privacy.parent_no")]
    )


@router.action("privacy.parent_yes")
async def on_parent_yes(ctx: Ctx, _arg: str) -> None:
    _ = ctx._
    raw = str(ctx.conv.data.get("code", ""))
    if ctx.conv.flow != "parent" or not raw:
        raise ctx.stale()
    student = await consent.accept_parent_link(ctx, raw)
    ctx.clear()
    await show_menu(
        ctx,
        _(
            "✅ Cảm ơn anh/chị! Nhà trường đã ghi nhận sự đồng ý cho con {name}. Anh/chị có thể rút lại bất cứ lúc "
            "nào bằng lệnh /privacy."
        ).format(name=student.display_name or ""),
    )


@router.action("privacy.parent_no")
async def on_parent_no(ctx: Ctx, _arg: str) -> None:
    ctx.clear()
    ctx.say(
        ctx._(
            "Cảm ơn anh/chị. Mình không ghi nhận gì cả. Nếu sau này anh/chị đồng ý, anh/chị mở lại mã này "
            "(trong thời hạn) hoặc báo giáo viên chủ nhiệm."
        )
    )


# The teacher's side: /consent → class → student → paper form or a code for the parent.


@router.command("consent", "dongy")
async def cmd_consent(ctx: Ctx, _args: str) -> None:
    _ = ctx._
    require_role(ctx, *SCHOOL_STAFF, message=FOR_TEACHERS)
    if ctx.user.role == Role.SCHOOL_ADMIN and ctx.user.school_id is not None:
        classes = await ctx.uow.classes.for_school(ctx.user.school_id)
    else:
        classes = await ctx.uow.classes.for_teacher(ctx.user.id)
    if not classes:
        await show_menu(ctx, _("Thầy/cô chưa có lớp nào."))
        return
    ctx.set_flow("consent")
    ctx.ask(
        _("📝 Ghi nhận đồng ý của phụ huynh. Thầy/cô chọn lớp:"),
        [(c.name, f"consent.class:{c.id}") for c in classes] + [(_("⬅️ Về menu"), "menu")],
    )


async def _class_for_staff(ctx: Ctx, arg: str) -> ClassRec:
    klass = await ctx.uow.classes.get(int(arg)) if arg.isdigit() else None
    if klass is None or not can_manage_class(ctx.user, klass):
        raise UserFacingError(ctx._("Thầy/cô chỉ xem được lớp của mình."))
    return klass


@router.action("consent.class")
async def on_consent_class(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    klass = await _class_for_staff(ctx, arg)
    students = await ctx.uow.privacy.class_members(klass.id)
    if not students:
        await show_menu(ctx, _("Lớp {name} chưa có học sinh nào.").format(name=klass.name))
        return
    options = []
    no_name = _(NO_NAME)
    for s in students:
        child, guardian = await consent_status(ctx.uow, s.id)
        mark = "✅" if child and guardian else ("👧" if child else "…")
        options.append((f"{mark} {s.display_name or no_name}", f"consent.student:{klass.id}.{s.id}"))
    ctx.ask(
        _("Lớp {name}. ✅ đã đủ đồng ý, 👧 mới có đồng ý của học sinh. Thầy/cô chọn học sinh:").format(name=klass.name),
        options + [(_("⬅️ Về menu"), "menu")],
    )


async def _student_for_staff(ctx: Ctx, arg: str) -> tuple[int, UserRec]:
    class_arg, _sep, student_arg = arg.partition(".")
    klass = await _class_for_staff(ctx, class_arg)
    for s in await ctx.uow.privacy.class_members(klass.id):
        if student_arg.isdigit() and s.id == int(student_arg):
            return klass.id, s
    raise UserFacingError(ctx._("Học sinh này không ở trong lớp của thầy/cô."))


@router.action("consent.student")
async def on_consent_student(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    class_id, student = await _student_for_staff(ctx, arg)
    child, guardian = await consent_status(ctx.uow, student.id)
    text = _("{name}: đồng ý của học sinh {child}, đồng ý của phụ huynh {guardian}.").format(
        name=student.display_name or "",
        child="✅" if child else _("chưa có"),
        guardian="✅" if guardian else _("chưa có"),
    )
    options = []
    if not guardian:
        options += [
            (_("📝 Đã có phiếu đồng ý của phụ huynh"), f"consent.paper:{class_id}.{student.id}"),
            (_("🔗 Tạo mã cho phụ huynh"), f"consent.link:{class_id}.{student.id}"),
        ]
    options.append((_("⬅️ Về lớp"), f"consent.class:{class_id}"))
    ctx.ask(text, options)


@router.action("consent.paper")
async def on_consent_paper(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    class_id, student = await _student_for_staff(ctx, arg)
    ctx.set_flow("consent", "consent.form_ref", target=f"{class_id}.{student.id}")
    ctx.ask(
        _("Thầy/cô gõ số hoặc mã của phiếu đồng ý đã ký (ví dụ: 7A-12). Không gõ tên phụ huynh nhé."),
        [(_("Hủy"), f"consent.class:{class_id}")],
    )


@router.text("consent.form_ref")
async def on_form_ref(ctx: Ctx, text: str) -> None:
    _ = ctx._
    if consent.clean_form_reference(text) is None:
        ctx.repeat_prompt(_(consent.BAD_REFERENCE))
        return
    class_id, student = await _student_for_staff(ctx, str(ctx.conv.data.get("target", "")))
    ref, recorded = await consent.record_paper_form(
        ctx.uow, ctx.user, student.id, text, ctx.env.notice_version, ctx.now
    )
    msg = (
        _("✅ Đã ghi nhận phiếu đồng ý số {ref} cho {name}.")
        if recorded
        else _("{name} đã có đồng ý của phụ huynh từ trước; không ghi thêm.")
    ).format(ref=ref, name=student.display_name or "")
    ctx.set_flow("consent")
    ctx.say(msg)
    await on_consent_class(ctx, str(class_id))


@router.action("consent.link")
async def on_consent_link(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    _class_id, student = await _student_for_staff(ctx, arg)
    await _show_parent_code(
        ctx, student, _("Mã để phụ huynh của {name} tự đồng ý:").format(name=student.display_name or "")
    )
