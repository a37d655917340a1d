"""The safe mailbox in the chat: a child writes to the school's counsellors (a kind, named or anonymous, urgent
or not, the words) and reads the replies; a counsellor lists, reads, answers and marks letters; a school admin
names the counsellors. The hotlines come from the content's one hotline file."""

from __future__ import annotations

from bot.accounts.consent import consent_status, require_ready
from bot.core import activity, safety
from bot.core.clock import vn_time
from bot.core.errors import CANCEL
from bot.core.i18n import N_
from bot.core.roles import SCHOOL_STAFF, Role
from bot.core.router import Router
from bot.mailbox import service as mailbox
from bot.mailbox.ports import CLOSED, HELPING, NEW, CaseRec, Ctx

router = Router()

KIND_LABELS = {
    "bat-nat": N_("😟 Bị bắt nạt"),
    "bao-luc": N_("🤕 Bạo lực hoặc xâm hại"),
    "ma-tuy": N_("💊 Ma túy"),
    "tren-mang": N_("📱 Chuyện trên mạng"),
    "khac": N_("💬 Chuyện khác"),
}
# What a child reads of their letter's state.
STATUS_FOR_CHILD = {
    NEW: N_("thầy/cô chưa trả lời"),
    HELPING: N_("thầy/cô đang giúp em"),
    CLOSED: N_("đã xong"),
}
INTRO = N_(
    "📮 Hộp thư an toàn\n"
    "Em có chuyện lo lắng, buồn hay sợ? Em viết thư cho thầy/cô tư vấn của trường nhé. Chỉ thầy/cô tư vấn đọc "
    "được thư của em, và em có thể không ghi tên. Thầy/cô sẽ trả lời em ngay trong chat này."
)
WRITE = N_("✍️ Viết thư mới")
MINE = N_("📬 Thư em đã gửi")
NEED_CLASS = N_("Em vào lớp trước nhé (gõ mã lớp thầy cô cho em), để mình biết gửi thư đến trường nào.")
NO_COUNSELLOR = N_(
    "Trường em chưa chọn thầy/cô tư vấn cho hộp thư này. Mình đã nhắn nhà trường để chọn ngay. Trong lúc chờ, em kể "
    "với thầy cô chủ nhiệm hoặc bố mẹ nhé."
)
ASK_KIND = N_("Chuyện em muốn kể là về việc gì?")
ASK_WHO = N_(
    "Em muốn ghi tên hay gửi ẩn danh?\n"
    "• Ẩn danh: thầy/cô không biết em là ai, nhưng vẫn trả lời em ở đây được.\n"
    "• Ghi tên: thầy/cô biết tên và lớp của em, nên giúp em dễ hơn."
)
ANONYMOUS = N_("🙈 Gửi ẩn danh")
NAMED = N_("🙋 Ghi tên em")
ASK_URGENT = N_("Chuyện này có gấp không?")
URGENT = N_("🚨 Gấp: em cần giúp ngay")
NOT_URGENT = N_("🕊 Không gấp")
ASK_TEXT = N_(
    "✍️ Em kể cho thầy/cô nghe chuyện gì đã xảy ra: ở đâu, khi nào, em thấy thế nào. Tin nhắn tiếp theo em gõ sẽ "
    "được gửi cho thầy/cô tư vấn (một tin, dưới {n} ký tự)."
)
TOO_SHORT = N_("Em viết vài chữ kể chuyện của em nhé (dưới {n} ký tự).")
SENT = N_("💛 Cảm ơn em đã kể. Thư của em đã đến thầy/cô tư vấn của trường. Khi thầy/cô trả lời, mình báo em ngay.")
SENT_ANONYMOUS = N_("Em gửi ẩn danh nên thầy/cô không biết tên em.")
SENT_URGENT = N_("Em chọn “gấp”, nên mình đã báo ngay cho tất cả thầy/cô tư vấn của trường.")
NOT_FOR_STAFF = N_("Hộp thư an toàn là nơi học sinh viết thư cho thầy/cô tư vấn của trường.")


def _kind(ctx: Ctx, kind: str) -> str:
    return ctx._(activity.WORRY_KINDS.get(kind, "khac"))


def hotlines(ctx: Ctx) -> list[str]:
    understanding = ctx.env.content.understanding
    return safety.hotline_paragraphs(ctx._, ctx.user.locale, understanding) if understanding else []


def _is_student(ctx: Ctx) -> bool:
    return ctx.user.role == Role.STUDENT


# --- the front door ------------------------------------------------------------------------------------------


@router.command("mailbox", "hopthu")
async def cmd_mailbox(ctx: Ctx, _args: str) -> None:
    if _is_student(ctx):
        await _student_home(ctx)
    elif ctx.user.role in SCHOOL_STAFF and await mailbox.is_counsellor(ctx.uow, ctx.user):
        await _case_list(ctx)
    else:
        await _about(ctx)


@router.action("mailbox.home")
async def on_home(ctx: Ctx, _arg: str) -> None:
    await cmd_mailbox(ctx, "")


async def _student_home(ctx: Ctx) -> None:
    _ = ctx._
    mine = await ctx.uow.mailbox.cases_of_writer(ctx.user.id)
    options = [(_(WRITE), "mailbox.write")]
    if mine:
        options.append((f"{_(MINE)} ({len(mine)})", "mailbox.mine"))
    ctx.set_flow("")
    ctx.ask(_(INTRO), [*options, ctx.back_to_menu()], replace_previous=ctx.answering_prompt)


async def _about(ctx: Ctx) -> None:
    """For staff who are not counsellors, organizers and parents: what the mailbox is, who reads it; no letter."""
    _ = ctx._
    lines = [_(NOT_FOR_STAFF)]
    if ctx.user.role in SCHOOL_STAFF and ctx.user.school_id is not None:
        names = [
            c.display_name or _("(chưa có tên)") for c in await mailbox.counsellors_of(ctx.uow, ctx.user.school_id)
        ]
        if names:
            lines.append(_("Thầy/cô tư vấn của trường: {names}.").format(names=", ".join(names)))
        else:
            lines.append(_("Trường chưa chọn thầy/cô tư vấn. Quản trị trường chọn bằng lệnh /tuvan."))
        lines.append(_("Chỉ thầy/cô tư vấn đọc được thư; giáo viên khác không xem được nội dung thư."))
    elif ctx.user.role == Role.ORGANIZER:
        lines.append(
            _("Ban tổ chức chỉ thấy số thư theo loại trong báo cáo; nội dung thư chỉ thầy/cô tư vấn của trường đọc.")
        )
    options = [(_("🤝 Thầy cô tư vấn"), "mailbox.counsellors")] if ctx.user.role == Role.SCHOOL_ADMIN else []
    ctx.ask("\n".join(lines), [*options, ctx.back_to_menu()])


# --- a child writes ------------------------------------------------------------------------------------------


async def _ready(ctx: Ctx) -> bool:
    """A letter is kept data about the child: like learning, it needs the child's agreement in force (withdrawn,
    processing stops). A child who is not ready still gets the hotlines first, then the way to agree again."""
    if ctx.user.onboarded and (await consent_status(ctx.uow, ctx.user.id))[0]:
        return True
    ctx.say("\n\n".join(hotlines(ctx)))
    return await require_ready(ctx)


@router.action("mailbox.write")
async def on_write(ctx: Ctx, _arg: str) -> None:
    _ = ctx._
    if not _is_student(ctx):
        await cmd_mailbox(ctx, "")
        return
    if not await _ready(ctx):
        return
    school_id = await mailbox.school_of_student(ctx.uow, ctx.user)
    if school_id is None:
        ctx.ask(
            "\n\n".join([_(NEED_CLASS), *hotlines(ctx)]), [(_("🏫 Vào lớp"), "onboarding.ask_code"), ctx.back_to_menu()]
        )
        return
    if not await mailbox.counsellors_of(ctx.uow, school_id):
        await mailbox.notify(
            ctx.uow, ctx.i18n, await mailbox.school_admins(ctx.uow, school_id), mailbox.NO_COUNSELLOR_NOTICE, ctx.now
        )
        ctx.set_flow("")
        ctx.ask("\n\n".join([_(NO_COUNSELLOR), *hotlines(ctx)]), [ctx.back_to_menu()])
        return
    ctx.set_flow("mailbox", "kind")
    ctx.ask(
        _(ASK_KIND),
        [(_(label), f"mailbox.kind:{kind}") for kind, label in KIND_LABELS.items()] + [(_(CANCEL), "mailbox.home")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("mailbox.kind")
async def on_kind(ctx: Ctx, arg: str) -> None:
    if not _is_student(ctx) or ctx.conv.flow != "mailbox" or ctx.conv.step != "kind" or arg not in KIND_LABELS:
        raise ctx.stale()
    _ = ctx._
    ctx.set_flow("mailbox", "who", kind=arg)
    ctx.ask(
        _(ASK_WHO),
        [(_(ANONYMOUS), "mailbox.who:anonymous"), (_(NAMED), "mailbox.who:named"), (_(CANCEL), "mailbox.home")],
        replace_previous=True,
    )


@router.action("mailbox.who")
async def on_who(ctx: Ctx, arg: str) -> None:
    kind = ctx.conv.data.get("kind")
    if not _is_student(ctx) or ctx.conv.step != "who" or kind not in KIND_LABELS or arg not in ("anonymous", "named"):
        raise ctx.stale()
    _ = ctx._
    ctx.set_flow("mailbox", "urgent", kind=kind, anonymous=arg == "anonymous")
    ctx.ask(
        _(ASK_URGENT),
        [(_(URGENT), "mailbox.urgent:yes"), (_(NOT_URGENT), "mailbox.urgent:no"), (_(CANCEL), "mailbox.home")],
        replace_previous=True,
    )


@router.action("mailbox.urgent")
async def on_urgent(ctx: Ctx, arg: str) -> None:
    data = ctx.conv.data
    if (
        not _is_student(ctx)
        or ctx.conv.step != "urgent"
        or data.get("kind") not in KIND_LABELS
        or arg not in ("yes", "no")
    ):
        raise ctx.stale()
    ctx.set_flow(
        "mailbox", "mailbox.text", kind=data["kind"], anonymous=bool(data.get("anonymous")), urgent=arg == "yes"
    )
    ctx.ask(ctx._(ASK_TEXT).format(n=mailbox.MAX_BODY), [(ctx._(CANCEL), "mailbox.home")], replace_previous=True)


@router.text("mailbox.text", disclosure=True)
async def on_text(ctx: Ctx, text: str) -> None:
    _ = ctx._
    data = ctx.conv.data
    if mailbox.clean_body(text) is None:
        ctx.repeat_prompt(_(TOO_SHORT).format(n=mailbox.MAX_BODY))
        return
    kind, anonymous, urgent = str(data.get("kind")), bool(data.get("anonymous")), bool(data.get("urgent"))
    case = await mailbox.write(ctx.uow, ctx.i18n, ctx.user, kind, anonymous, urgent, text, ctx.now)
    ctx.set_flow("")
    if case is None:  # the school's last counsellor was removed meanwhile: nothing kept, the admins are told
        ctx.ask("\n\n".join([_(NO_COUNSELLOR), *hotlines(ctx)]), [ctx.back_to_menu()])
        return
    lines = [_(SENT)]
    if anonymous:
        lines[0] += " " + _(SENT_ANONYMOUS)
    if urgent:
        lines.append(_(SENT_URGENT))
    ctx.ask("\n\n".join([*lines, *hotlines(ctx)]), [(_(MINE), "mailbox.mine"), ctx.back_to_menu()])


# --- a child reads their letters -----------------------------------------------------------------------------


@router.action("mailbox.mine")
async def on_mine(ctx: Ctx, _arg: str) -> None:
    _ = ctx._
    cases = await ctx.uow.mailbox.cases_of_writer(ctx.user.id)
    if not cases:
        await _student_home(ctx)
        return
    options = [
        (
            _("Thư số {n} · {kind} · {state}").format(
                n=c.id, kind=_kind(ctx, c.kind), state=_(STATUS_FOR_CHILD.get(c.status, NEW))
            ),
            f"mailbox.my:{c.id}",
        )
        for c in cases[:20]
    ]
    ctx.ask(_("📬 Thư em đã gửi:"), [*options, (_(WRITE), "mailbox.write"), ctx.back_to_menu()])


def _thread_lines(ctx: Ctx, case: CaseRec, messages: list[mailbox.MessageRec], for_writer: bool) -> list[str]:
    _ = ctx._
    out = []
    for msg in messages:
        if msg.from_writer:
            who = _("Em") if for_writer else _("Học sinh")
        else:
            who = _("Thầy/cô tư vấn")
        out.append(f"[{vn_time(msg.created_at)}] {who}: {msg.body}")
    return out


@router.action("mailbox.my")
async def on_my(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    case = await mailbox.writer_case(ctx.uow, ctx.user, int(arg) if arg.isdigit() else -1)
    messages = await ctx.uow.mailbox.messages(case.id)
    head = _("📮 Thư số {n} · {kind} · {state}").format(
        n=case.id, kind=_kind(ctx, case.kind), state=_(STATUS_FOR_CHILD.get(case.status, NEW))
    )
    ctx.set_flow("")
    # The thread is said, not asked: the stored prompt (shown again after a wrong answer) keeps no word of it.
    ctx.say("\n\n".join(_thread_lines(ctx, case, messages, True)))
    ctx.ask(head, [(_("✍️ Viết thêm"), f"mailbox.more:{case.id}"), (_(MINE), "mailbox.mine"), ctx.back_to_menu()])


@router.action("mailbox.more")
async def on_more(ctx: Ctx, arg: str) -> None:
    case = await mailbox.writer_case(ctx.uow, ctx.user, int(arg) if arg.isdigit() else -1)
    if not await _ready(ctx):
        return
    ctx.set_flow("mailbox", "mailbox.more", case_id=case.id)
    ctx.ask(ctx._(ASK_TEXT).format(n=mailbox.MAX_BODY), [(ctx._(CANCEL), f"mailbox.my:{case.id}")])


@router.text("mailbox.more", disclosure=True)
async def on_more_text(ctx: Ctx, text: str) -> None:
    _ = ctx._
    case_id = ctx.conv.data.get("case_id")
    if not isinstance(case_id, int):
        raise ctx.stale()
    if mailbox.clean_body(text) is None:
        ctx.repeat_prompt(_(TOO_SHORT).format(n=mailbox.MAX_BODY))
        return
    await mailbox.write_more(ctx.uow, ctx.i18n, ctx.user, case_id, text, ctx.now)
    ctx.set_flow("")
    ctx.ask(
        "\n\n".join([_("💛 Mình đã gửi thêm lời em viết cho thầy/cô tư vấn."), *hotlines(ctx)]),
        [(_(MINE), "mailbox.mine"), ctx.back_to_menu()],
    )


# --- a counsellor reads and answers --------------------------------------------------------------------------


def case_title(ctx: Ctx, case: CaseRec) -> str:
    _ = ctx._
    urgent = "🚨 " if case.urgent and case.status != CLOSED else ""
    return _("{urgent}Thư số {n} · {kind} · {state} · {date}").format(
        urgent=urgent,
        n=case.id,
        kind=_kind(ctx, case.kind),
        state=_(mailbox.STATUS_NAMES.get(case.status, NEW)),
        date=vn_time(case.created_at, "%d/%m"),
    )


async def _case_list(ctx: Ctx) -> None:
    _ = ctx._
    cases = await mailbox.cases_for_counsellor(ctx.uow, ctx.user, ctx.now)
    ctx.set_flow("")
    if not cases:
        ctx.ask(_("📮 Hộp thư an toàn của trường chưa có thư nào."), [ctx.back_to_menu()])
        return
    open_ = sum(c.status != CLOSED for c in cases)
    ctx.ask(
        _("📮 Hộp thư an toàn: {n} thư đang mở. Thầy/cô chọn một thư để đọc:").format(n=open_),
        [(case_title(ctx, c), f"mailbox.case:{c.id}") for c in cases[:30]] + [ctx.back_to_menu()],
        replace_previous=ctx.answering_prompt,
    )


@router.action("mailbox.cases")
async def on_cases(ctx: Ctx, _arg: str) -> None:
    await _case_list(ctx)


async def _show_case(ctx: Ctx, case_id: int, prefix: str = "") -> None:
    _ = ctx._
    thread = await mailbox.read_for_counsellor(ctx.uow, ctx.user, case_id, ctx.now)
    case = thread.case
    writer = thread.writer or _("ẩn danh (học sinh không ghi tên)")
    head = [
        case_title(ctx, case),
        _("Người viết: {who}").format(who=writer),
    ]
    if case.urgent:
        head.append(_("Học sinh đánh dấu thư này là GẤP."))
    options = [] if case.status == CLOSED else [(_("💬 Trả lời"), f"mailbox.reply:{case.id}")]
    for status, label in ((HELPING, N_("🔄 Đang hỗ trợ")), (CLOSED, N_("✅ Đã xong")), (NEW, N_("🆕 Mới"))):
        if status != case.status:
            options.append((_(label), f"mailbox.status:{case.id}:{status}"))
    ctx.set_flow("")
    if prefix:
        ctx.say(prefix)
    # The thread is said, not asked: the stored prompt (shown again after a wrong answer) keeps no word of it.
    ctx.say("\n\n".join(_thread_lines(ctx, case, thread.messages, False)))
    ctx.ask("\n".join(head), [*options, (_("📬 Các thư"), "mailbox.cases"), ctx.back_to_menu()])


@router.action("mailbox.case")
async def on_case(ctx: Ctx, arg: str) -> None:
    await _show_case(ctx, int(arg) if arg.isdigit() else -1)


@router.action("mailbox.reply")
async def on_reply(ctx: Ctx, arg: str) -> None:
    case = await mailbox.counsellor_case(ctx.uow, ctx.user, int(arg) if arg.isdigit() else -1)
    ctx.set_flow("mailbox", "mailbox.reply", case_id=case.id)
    ctx.ask(
        ctx._("Thầy/cô gõ lời trả lời cho học sinh (dưới {n} ký tự). Học sinh nhận được ngay trong chat.").format(
            n=mailbox.MAX_BODY
        ),
        [(ctx._(CANCEL), f"mailbox.case:{case.id}")],
    )


@router.text("mailbox.reply")
async def on_reply_text(ctx: Ctx, text: str) -> None:
    ctx.forget_text = True  # the reply is kept in the thread only
    case_id = ctx.conv.data.get("case_id")
    if not isinstance(case_id, int):
        raise ctx.stale()
    if mailbox.clean_body(text) is None:
        ctx.repeat_prompt(
            ctx._("Thầy/cô gõ lời trả lời (ít nhất vài chữ, dưới {n} ký tự) nhé.").format(n=mailbox.MAX_BODY)
        )
        return
    await mailbox.reply(ctx.uow, ctx.i18n, ctx.user, case_id, text, ctx.now)
    await _show_case(ctx, case_id, ctx._("✅ Đã gửi trả lời cho học sinh."))


@router.action("mailbox.status")
async def on_status(ctx: Ctx, arg: str) -> None:
    raw_id, _sep, status = arg.partition(":")
    case = await mailbox.set_status(ctx.uow, ctx.user, int(raw_id) if raw_id.isdigit() else -1, status, ctx.now)
    label = ctx._(mailbox.STATUS_NAMES[status])
    await _show_case(ctx, case.id, ctx._("✅ Đã đánh dấu thư: {state}.").format(state=label))


# --- a school admin names the counsellors --------------------------------------------------------------------


@router.command("counsellors", "tuvan")
async def cmd_counsellors(ctx: Ctx, _args: str, prefix: str = "") -> None:
    _ = ctx._
    school_id = mailbox.require_admin(ctx.user)
    current = await mailbox.counsellors_of(ctx.uow, school_id)
    lines = [_("🤝 Thầy/cô tư vấn của hộp thư an toàn")]
    if current:
        lines += [f"• {c.display_name or _('(chưa có tên)')}" for c in current]
    else:
        lines.append(_("Trường chưa chọn thầy/cô tư vấn: học sinh chưa gửi thư được."))
    lines.append(
        _(
            "Thầy/cô tư vấn đọc và trả lời thư học sinh gửi (Thông tư 18/2025/TT-BGDĐT, Điều 19). Giáo viên khác, "
            "quản trị trường và ban tổ chức không xem được nội dung thư."
        )
    )
    options = [(_("➕ Chọn thầy/cô tư vấn"), "mailbox.pick")]
    options += [
        (_("➖ Bỏ chọn {name}").format(name=c.display_name or c.user_id), f"mailbox.unname:{c.user_id}")
        for c in current
    ]
    ctx.set_flow("")
    text = "\n".join(lines)
    ctx.ask(f"{prefix}\n\n{text}" if prefix else text, [*options, ctx.back_to_menu()])


@router.action("mailbox.counsellors")
async def on_counsellors(ctx: Ctx, _arg: str) -> None:
    await cmd_counsellors(ctx, "")


@router.action("mailbox.pick")
async def on_pick(ctx: Ctx, _arg: str) -> None:
    _ = ctx._
    school_id = mailbox.require_admin(ctx.user)
    named = {c.user_id for c in await mailbox.counsellors_of(ctx.uow, school_id)}
    staff = [s for s in await ctx.uow.mailbox.school_staff(school_id) if s.user_id not in named]
    if not staff:
        await cmd_counsellors(
            ctx, "", _("Mọi thầy cô của trường đều đã là thầy/cô tư vấn. Mời thêm giáo viên bằng /moi.")
        )
        return
    ctx.ask(
        _("Thầy/cô chọn người làm tư vấn:"),
        [(s.display_name or _("(chưa có tên)"), f"mailbox.name:{s.user_id}") for s in staff]
        + [(_(CANCEL), "mailbox.counsellors")],
    )


@router.action("mailbox.name")
async def on_name(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    person = await mailbox.name_counsellor(ctx.uow, ctx.user, int(arg) if arg.isdigit() else -1, ctx.now)
    if person.user_id != ctx.user.id:
        await mailbox.notify(ctx.uow, ctx.i18n, [person.user_id], mailbox.NAMED_NOTICE, ctx.now)
    await cmd_counsellors(
        ctx, "", _("✅ Đã chọn {name} làm thầy/cô tư vấn.").format(name=person.display_name or _("(chưa có tên)"))
    )


@router.action("mailbox.unname")
async def on_unname(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    removed = await mailbox.remove_counsellor(ctx.uow, ctx.user, int(arg) if arg.isdigit() else -1, ctx.now)
    if not removed:
        raise ctx.stale()
    await cmd_counsellors(ctx, "", _("Đã bỏ chọn thầy/cô tư vấn này."))
