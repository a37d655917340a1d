"""The staff's side of pledges in the chat: organizers (for the district) and school admins (for their school)
publish a pledge from a template or their own text with a window, edit its text (a new version) or its window;
everyone on staff sees the tallies of their scope, teachers and admins the list of a class, and reminds those who
have not confirmed."""

from __future__ import annotations

import datetime as dt

from bot.core.errors import CANCEL, NO_NAME, Refusal
from bot.core.i18n import N_
from bot.core.roles import STAFF, Role, require_role
from bot.core.router import Router
from bot.pledges import service as pledges
from bot.pledges.ports import ClassTally, Ctx, PledgeRec

router = Router()

FOR_STAFF = N_("Chức năng này chỉ dành cho thầy cô và ban tổ chức.")
FOR_CLASS_STAFF = N_("Danh sách học sinh của lớp chỉ dành cho giáo viên của lớp và quản trị trường.")
MAX_LINES = 25  # classes or schools listed in one message (the web console lists them all)
MAX_NAMES = 40
MAX_CLASS_BUTTONS = 8
QUICK_DAYS = (14, 30)
STATE_NAMES = {"upcoming": N_("🕒 chưa mở"), "open": N_("🟢 đang mở"), "closed": N_("⏹ đã kết thúc")}


def _int(arg: str) -> int:
    if not arg.isdigit():
        raise Refusal(pledges.NOT_FOUND)
    return int(arg)


def _scope_name(ctx: Ctx, pledge: PledgeRec, school: str) -> str:
    return ctx._("toàn đặc khu") if pledge.school_id is None else school


async def _school_name(ctx: Ctx, school_id: int | None) -> str:
    school = await ctx.uow.schools.get(school_id) if school_id is not None else None
    return school.name if school else ""


async def show_home(ctx: Ctx, prefix: str = "") -> None:
    require_role(ctx, *STAFF, message=FOR_STAFF)
    _ = ctx._
    found = await pledges.listed(ctx.uow, ctx.user)
    lines = [prefix] if prefix else []
    lines.append(_("📝 Ký cam kết"))
    options = []
    if pledges.may_publish(ctx.user):
        options.append((_("➕ Tạo bản cam kết"), "pledge.new"))
    if not found:
        lines.append(_("Chưa có bản cam kết nào."))
    for pledge in found[:10]:
        options.append(
            (f"{_(STATE_NAMES[pledges.state(pledge, ctx.now)])} · {pledge.title}", f"pledge.show:{pledge.id}")
        )
    ctx.clear()
    ctx.ask("\n".join(lines), options + [ctx.back_to_menu()], replace_previous=ctx.answering_prompt)


@router.action("pledge.admin")
async def on_home(ctx: Ctx, _arg: str) -> None:
    await show_home(ctx)


# --- publishing: a template or one's own text, a window, a preview ---


def _require_publisher(ctx: Ctx) -> None:
    if not pledges.may_publish(ctx.user):
        raise Refusal(pledges.FOR_PUBLISHERS)


@router.action("pledge.new")
async def on_new(ctx: Ctx, _arg: str) -> None:
    _require_publisher(ctx)
    _ = ctx._
    templates = ctx.env.content.pledge_templates_on(ctx.today)
    ctx.set_flow("pledge_new")
    ctx.ask(
        _("📝 Bản cam kết mới cho năm học. Thầy/cô chọn một mẫu, hoặc tự soạn nội dung:"),
        [(t.title, f"pledge.tpl:{t.id}") for t in templates]
        + [(_("✍️ Tự soạn nội dung"), "pledge.own"), (_(CANCEL), "pledge.admin")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("pledge.tpl")
async def on_template(ctx: Ctx, arg: str) -> None:
    _require_publisher(ctx)
    template = next((t for t in ctx.env.content.pledge_templates_on(ctx.today) if t.id == arg), None)
    if template is None or ctx.conv.flow != "pledge_new":
        raise ctx.stale()
    ctx.conv.data.update(title=template.title, text=template.text, template=template.id)
    await _ask_window(ctx)


@router.action("pledge.own")
async def on_own(ctx: Ctx, _arg: str) -> None:
    _require_publisher(ctx)
    _ = ctx._
    ctx.set_flow("pledge_new", "pledge.title")
    ctx.ask(
        _("Thầy/cô gõ tên bản cam kết ({min}–{max} ký tự), ví dụ: “Cam kết không sử dụng pháo nổ”.").format(
            min=pledges.TITLE_MIN, max=pledges.PLEDGE_TITLE_MAX
        ),
        [(_(CANCEL), "pledge.admin")],
    )


@router.text("pledge.title")
async def on_title(ctx: Ctx, text: str) -> None:
    _require_publisher(ctx)
    _ = ctx._
    title = pledges.clean_title(text)
    if title is None:
        ctx.repeat_prompt(_(pledges.BAD_TITLE).format(min=pledges.TITLE_MIN, max=pledges.PLEDGE_TITLE_MAX))
        return
    ctx.set_flow("pledge_new", "pledge.text", title=title)
    ctx.ask(
        _(
            "Thầy/cô gõ nội dung bản cam kết trong một tin nhắn ({min}–{max} ký tự), mỗi ý một dòng. Học sinh và "
            "phụ huynh sẽ đọc đúng nội dung này. Chỉ nêu điều luật đã được xác nhận; không chắc thì chỉ nêu việc "
            "làm."
        ).format(min=pledges.TEXT_MIN, max=_typed_max(ctx)),
        [(_(CANCEL), "pledge.admin")],
    )


def _typed_max(ctx: Ctx) -> int:
    """A text typed in the chat is one message: at most the kernel's limit, and at most what a pledge may hold."""
    return min(pledges.PLEDGE_TEXT_MAX, ctx.settings.max_text_length)


@router.text("pledge.text")
async def on_text(ctx: Ctx, text: str) -> None:
    _require_publisher(ctx)
    body = pledges.clean_text(text)
    if body is None or not ctx.conv.data.get("title"):
        ctx.repeat_prompt(ctx._(pledges.BAD_TEXT).format(min=pledges.TEXT_MIN, max=_typed_max(ctx)))
        return
    ctx.conv.data.update(text=body, template=None)
    await _ask_window(ctx)


def _window_question(ctx: Ctx) -> str:
    return ctx._(
        "🗓 Thời gian ký (giờ Việt Nam)? Thầy/cô chọn dưới đây, hoặc gõ ngày bắt đầu và ngày kết thúc, ví dụ: "
        "“25/08/2026 - 15/09/2026” (mở từ 00:00 ngày đầu đến hết ngày cuối)."
    )


def _quick(ctx: Ctx, action: str) -> list[tuple[str, str]]:
    return [(ctx._("Từ bây giờ đến hết {n} ngày nữa").format(n=n), f"{action}{n}") for n in QUICK_DAYS]


async def _ask_window(ctx: Ctx) -> None:
    ctx.conv.step = "pledge.window"
    ctx.ask(_window_question(ctx), _quick(ctx, "pledge.days:") + [(ctx._(CANCEL), "pledge.admin")])


@router.text("pledge.window")
async def on_window_text(ctx: Ctx, text: str) -> None:
    _require_publisher(ctx)
    try:
        window = pledges.parse_window(text, ctx.now)
    except Refusal as exc:
        ctx.repeat_prompt(exc.translated(ctx._))
        return
    await _preview(ctx, *window)


@router.action("pledge.days")
async def on_days(ctx: Ctx, arg: str) -> None:
    _require_publisher(ctx)
    if ctx.conv.flow != "pledge_new" or _int(arg) not in QUICK_DAYS:
        raise ctx.stale()
    await _preview(ctx, *pledges.window_for(_int(arg), ctx.now))


def _plan(ctx: Ctx, opens: dt.datetime, closes: dt.datetime) -> PledgeRec:
    data = ctx.conv.data
    if ctx.conv.flow != "pledge_new" or not data.get("title") or not data.get("text"):
        raise ctx.stale()
    template = data.get("template")
    return pledges.draft(
        ctx.user, str(data["title"]), str(data["text"]), str(template) if template else None, opens, closes, ctx.now
    )


async def _preview(ctx: Ctx, opens: dt.datetime, closes: dt.datetime) -> None:
    _ = ctx._
    plan = _plan(ctx, opens, closes)
    reach = await pledges.reach(ctx.uow, plan)
    ctx.conv.data.update(opens=opens.isoformat(), closes=closes.isoformat())
    ctx.conv.step = ""
    scope = _scope_name(ctx, plan, await _school_name(ctx, plan.school_id))
    lines = [
        _("📝 Xem trước bản cam kết"),
        f"“{plan.title}”",
        _("Phạm vi: {scope} · năm học {year}").format(scope=scope, year=plan.school_year),
        _("Thời gian ký: {window}").format(window=pledges.window_text(plan, _)),
        "",
        plan.text,
        "",
        _("Khi công bố, bot báo cho {s} học sinh và {p} phụ huynh đã liên kết của {c} lớp.").format(
            s=reach.students, p=reach.parents, c=reach.classes
        ),
    ]
    ctx.ask(
        "\n".join(lines),
        [
            (_("✅ Công bố"), "pledge.publish"),
            (_("🗓 Đổi thời gian ký"), "pledge.window_again"),
            (_(CANCEL), "pledge.admin"),
        ],
        replace_previous=ctx.answering_prompt,
    )


@router.action("pledge.window_again")
async def on_window_again(ctx: Ctx, _arg: str) -> None:
    _require_publisher(ctx)
    if ctx.conv.flow != "pledge_new":
        raise ctx.stale()
    await _ask_window(ctx)


@router.action("pledge.publish")
async def on_publish(ctx: Ctx, _arg: str) -> None:
    _require_publisher(ctx)
    data = ctx.conv.data
    if ctx.conv.flow != "pledge_new" or not data.get("opens") or not data.get("closes"):
        raise ctx.stale()
    plan = _plan(ctx, dt.datetime.fromisoformat(str(data["opens"])), dt.datetime.fromisoformat(str(data["closes"])))
    reach = await pledges.publish(ctx.uow, plan, ctx.now, ctx.i18n.gettext)
    ctx.clear()
    await show_pledge(
        ctx,
        plan.id,
        ctx._("✅ Đã công bố “{title}”. Bot đang báo cho {s} học sinh và {p} phụ huynh đã liên kết.").format(
            title=plan.title, s=reach.students, p=reach.parents
        ),
    )


# --- one pledge: the tallies of one's scope, the class list, reminders, edits ---


def _tally_line(ctx: Ctx, name: str, t: ClassTally) -> str:
    _ = ctx._
    line = _("{name}: học sinh {s}/{n} đã ký, phụ huynh {p}/{n} đã ký").format(
        name=name, s=t.students_confirmed, p=t.parents_confirmed, n=t.students
    )
    extra = []
    if t.students_earlier:
        extra.append(_("{n} em mới ký bản trước").format(n=t.students_earlier))
    extra.append(_("{n} phụ huynh có tài khoản liên kết").format(n=t.parents_linked))
    return f"• {line} ({', '.join(extra)})"


async def show_pledge(ctx: Ctx, pledge_id: int, prefix: str = "") -> None:
    require_role(ctx, *STAFF, message=FOR_STAFF)
    _ = ctx._
    view = await pledges.tally_view(ctx.uow, ctx.user, pledge_id)
    pledge = view.pledge
    now_state = pledges.state(pledge, ctx.now)
    lines = [prefix, ""] if prefix else []
    lines += [
        _("📝 {title} (phiên bản {v})").format(title=pledge.title, v=pledge.version),
        _("Phạm vi: {scope} · năm học {year}").format(
            scope=_scope_name(ctx, pledge, await _school_name(ctx, pledge.school_id)), year=pledge.school_year
        ),
        _("Thời gian ký: {window} – {state}").format(
            window=pledges.window_text(pledge, _), state=_(STATE_NAMES[now_state])
        ),
        "",
    ]
    if ctx.user.role == Role.ORGANIZER:
        rows = [(s.name, s.tally) for s in view.schools]
        lines.append(_("Theo trường:"))
    else:
        rows = [(c.name, t) for c, t in view.classes]
        lines.append(_("Theo lớp:"))
    if not rows:
        lines.append(_("Chưa có lớp nào của năm học này."))
    lines += [_tally_line(ctx, name, t) for name, t in rows[:MAX_LINES]]
    if len(rows) > MAX_LINES:
        lines.append(_("… và {n} đơn vị nữa (xem đủ trên trang quản lý: /web).").format(n=len(rows) - MAX_LINES))
    if len(rows) > 1:
        lines.append(_tally_line(ctx, _("Tổng"), view.total))
    if ctx.env.web_base_url and ctx.user.role != Role.ORGANIZER:
        lines += ["", _("🖨 Danh sách in được của từng lớp: trang quản lý (/web) → Ký cam kết.")]
    options: list[tuple[str, str]] = []
    if now_state == "open" and view.total.students:
        options.append((_("🔔 Nhắc những người chưa ký"), f"pledge.remind:{pledge.id}"))
    if ctx.user.role != Role.ORGANIZER:
        options += [
            (_("📋 Danh sách lớp {name}").format(name=c.name), f"pledge.class:{pledge.id}.{c.id}")
            for c, _t in view.classes[:MAX_CLASS_BUTTONS]
        ]
    if pledges.manages(ctx.user, pledge) and now_state != "closed":
        options += [
            (_("✏️ Sửa nội dung"), f"pledge.edit:{pledge.id}"),
            (_("🗓 Đổi thời gian ký"), f"pledge.rewindow:{pledge.id}"),
        ]
    options += [(_("⬅️ Các bản cam kết"), "pledge.admin"), ctx.back_to_menu()]
    ctx.ask("\n".join(lines), options, replace_previous=ctx.answering_prompt)


@router.action("pledge.show")
async def on_show(ctx: Ctx, arg: str) -> None:
    ctx.clear()
    await show_pledge(ctx, _int(arg))


@router.action("pledge.class")
async def on_class(ctx: Ctx, arg: str) -> None:
    require_role(ctx, Role.TEACHER, Role.SCHOOL_ADMIN, message=FOR_CLASS_STAFF)
    _ = ctx._
    pledge_arg, _sep, class_arg = arg.partition(".")
    pledge, klass, rows = await pledges.class_list(
        ctx.uow, ctx.user, _int(pledge_arg), _int(class_arg), ctx.now, ctx.event.address.channel
    )
    lines = [
        _("📋 {title} – lớp {name}").format(title=pledge.title, name=klass.name),
        _("✅ đã ký bản hiện tại · 🔄 mới ký bản trước · … chưa ký · – phụ huynh chưa liên kết"),
        "",
    ]
    for row in rows[:MAX_NAMES]:
        student = _mark(row.student_version, pledge.version)
        parent = _mark(row.parent_version, pledge.version) if row.parent_linked or row.parent_version else "–"
        lines.append(_("• {name} – em: {s}, phụ huynh: {p}").format(name=row.name or _(NO_NAME), s=student, p=parent))
    if len(rows) > MAX_NAMES:
        lines.append(_("… và {n} em nữa (xem đủ trên trang quản lý: /web).").format(n=len(rows) - MAX_NAMES))
    if not rows:
        lines.append(_("Lớp chưa có học sinh nào."))
    ctx.ask("\n".join(lines), [(_("⬅️ Quay lại"), f"pledge.show:{pledge.id}"), ctx.back_to_menu()])


def _mark(version: int | None, current: int) -> str:
    if version is None:
        return "…"
    return "✅" if version == current else "🔄"


@router.action("pledge.remind")
async def on_remind(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *STAFF, message=FOR_STAFF)
    classes, people = await pledges.remind(ctx.uow, ctx.user, _int(arg), ctx.now, ctx.i18n.gettext)
    await show_pledge(
        ctx,
        _int(arg),
        ctx._("🔔 Đã gửi lời nhắc tới {n} học sinh và phụ huynh chưa ký ({c} lớp).").format(n=people, c=classes),
    )


@router.action("pledge.edit")
async def on_edit(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    pledge = await pledges.managed_pledge(ctx.uow, ctx.user, _int(arg))
    ctx.set_flow("pledge_edit", "pledge.edit_text", pledge=pledge.id)
    ctx.ask(
        _(
            "✏️ Thầy/cô gõ toàn bộ nội dung mới ({min}–{max} ký tự). Bản sửa là phiên bản mới; ai đã ký bản cũ sẽ "
            "được mời ký lại. Nội dung hiện tại (phiên bản {v}):"
        ).format(min=pledges.TEXT_MIN, max=_typed_max(ctx), v=pledge.version)
        + "\n\n"
        + pledge.text,
        [(_(CANCEL), f"pledge.show:{pledge.id}")],
    )


@router.text("pledge.edit_text")
async def on_edit_text(ctx: Ctx, text: str) -> None:
    _ = ctx._
    pledge = await pledges.managed_pledge(ctx.uow, ctx.user, int(ctx.conv.data.get("pledge", 0) or 0))
    body = pledges.clean_text(text)
    if body is None:
        ctx.repeat_prompt(_(pledges.BAD_TEXT).format(min=pledges.TEXT_MIN, max=_typed_max(ctx)))
        return
    ctx.set_flow("pledge_edit", "", pledge=pledge.id, text=body)
    ctx.ask(
        _("Nội dung mới (phiên bản {v}):").format(v=pledge.version + 1) + "\n\n" + body,
        [(_("✅ Công bố phiên bản mới"), f"pledge.edit_ok:{pledge.id}"), (_(CANCEL), f"pledge.show:{pledge.id}")],
    )


@router.action("pledge.edit_ok")
async def on_edit_ok(ctx: Ctx, arg: str) -> None:
    data = ctx.conv.data
    if ctx.conv.flow != "pledge_edit" or data.get("pledge") != _int(arg) or not data.get("text"):
        raise ctx.stale()
    pledge, told = await pledges.edit_text(ctx.uow, ctx.user, _int(arg), str(data["text"]), ctx.now, ctx.i18n.gettext)
    ctx.clear()
    await show_pledge(
        ctx,
        pledge.id,
        ctx._("✅ Đã công bố phiên bản {v}. {n} người đã ký bản trước được mời đọc và ký lại.").format(
            v=pledge.version, n=told
        ),
    )


@router.action("pledge.rewindow")
async def on_rewindow(ctx: Ctx, arg: str) -> None:
    pledge = await pledges.managed_pledge(ctx.uow, ctx.user, _int(arg))
    ctx.set_flow("pledge_window", "pledge.rewindow", pledge=pledge.id)
    ctx.ask(
        ctx._("Thời gian ký hiện tại: {window}.").format(window=pledges.window_text(pledge, ctx._))
        + "\n"
        + _window_question(ctx),
        _quick(ctx, f"pledge.redays:{pledge.id}.") + [(ctx._(CANCEL), f"pledge.show:{pledge.id}")],
    )


@router.text("pledge.rewindow")
async def on_rewindow_text(ctx: Ctx, text: str) -> None:
    pledge_id = int(ctx.conv.data.get("pledge", 0) or 0)
    await pledges.managed_pledge(ctx.uow, ctx.user, pledge_id)
    try:
        window = pledges.parse_window(text, ctx.now)
    except Refusal as exc:
        ctx.repeat_prompt(exc.translated(ctx._))
        return
    await _set_window(ctx, pledge_id, *window)


@router.action("pledge.redays")
async def on_redays(ctx: Ctx, arg: str) -> None:
    pledge_arg, _sep, days = arg.partition(".")
    if _int(days) not in QUICK_DAYS:
        raise ctx.stale()
    pledge = await pledges.managed_pledge(ctx.uow, ctx.user, _int(pledge_arg))
    opens, closes = pledges.window_for(_int(days), ctx.now)
    await _set_window(ctx, pledge.id, min(opens, pledge.opens_at), closes)


async def _set_window(ctx: Ctx, pledge_id: int, opens: dt.datetime, closes: dt.datetime) -> None:
    pledge = await pledges.change_window(ctx.uow, ctx.user, pledge_id, opens, closes, ctx.now)
    ctx.clear()
    await show_pledge(
        ctx, pledge.id, ctx._("🗓 Đã đổi thời gian ký: {window}.").format(window=pledges.window_text(pledge, ctx._))
    )
