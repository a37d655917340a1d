"""Teachers' classes: one class's page (rename, archive, new join code, roster, matching students to roster
rows), sending a lesson or practice quiz to classes, the progress of what was sent, and reminders."""

from __future__ import annotations

import datetime as dt

from bot.core.context import VN_TZ, Context
from bot.core.flows.menu import show_menu
from bot.core.flows.staff import require_role
from bot.core.router import Router
from bot.core.services import broadcasts, roster
from bot.core.topics import TOPIC_NAMES, topic_name

router = Router()
STAFF = ("teacher", "school_admin")
MAX_NAMES = 40  # names listed in one message; the rest are counted


def _int(arg: str) -> int:
    return int(arg) if arg.isdigit() else 0


# --- one class ---


@router.action("class.show")
async def on_show_class(ctx: Context, arg: str) -> None:
    await show_class(ctx, arg)


async def show_class(ctx: Context, arg: str, prefix: str = "") -> None:
    require_role(ctx, *STAFF)
    _ = ctx._
    klass = await roster.managed_class(ctx.uow, ctx.user, _int(arg), _)
    pending = await roster.auto_link(ctx.uow, klass.id)
    entries = await ctx.uow.rosters.entries(klass.id)
    members = await ctx.uow.classes.member_count(klass.id)
    lines = [
        prefix,
        _("🏫 Lớp {name} (khối {grade}, {year})").format(name=klass.name, grade=klass.grade, year=klass.school_year),
        _("Mã lớp: {code}").format(code=klass.join_code),
        _("{n} học sinh đã vào lớp; danh sách lớp có {r} em ({linked} em đã ghép).").format(
            n=members, r=len(entries), linked=sum(1 for e in entries if e.user_id)
        ),
    ]
    options = [
        (_("📣 Gửi bài cho lớp"), f"bc.new:{klass.id}"),
        (_("📊 Tiến độ bài đã gửi"), f"bc.list:{klass.id}"),
        (_("👥 Danh sách lớp"), f"class.roster:{klass.id}"),
    ]
    if pending:
        options.append((_("❓ Xác nhận học sinh ({n})").format(n=len(pending)), f"class.matches:{klass.id}"))
    options += [
        (_("✏️ Đổi tên lớp"), f"class.rename:{klass.id}"),
        (_("🔑 Đổi mã lớp"), f"class.newcode:{klass.id}"),
        (_("🗄️ Lưu trữ lớp"), f"class.archive:{klass.id}"),
        (_("⬅️ Các lớp"), "staff.classes"),
    ]
    ctx.set_flow("classes", "", class_id=klass.id)
    ctx.ask("\n".join(x for x in lines if x), options, replace_previous=ctx.answering_prompt)


@router.action("class.roster")
async def on_roster(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    _ = ctx._
    klass = await roster.managed_class(ctx.uow, ctx.user, _int(arg), _)
    await roster.auto_link(ctx.uow, klass.id)
    entries = await ctx.uow.rosters.entries(klass.id)
    members = await ctx.uow.rosters.members(klass.id)
    linked = {e.user_id for e in entries if e.user_id}
    lines = [_("👥 Danh sách lớp {name}:").format(name=klass.name)]
    for e in entries[:MAX_NAMES]:
        code = f" ({e.student_code})" if e.student_code else ""
        mark = _("✅ đã vào lớp") if e.user_id else _("chưa vào lớp")
        lines.append(f"• {e.full_name}{code} – {mark}")
    if len(entries) > MAX_NAMES:
        lines.append(_("… và {n} em nữa.").format(n=len(entries) - MAX_NAMES))
    if not entries:
        lines.append(_("Chưa có danh sách. Nhà trường nhập danh sách từ tệp Excel bằng lệnh trên máy chủ."))
    extra = [mb for mb in members if mb.user_id not in linked]
    if extra:
        lines += ["", _("Đã vào lớp nhưng chưa có trong danh sách:")]
        no_name = _("(chưa có tên)")
        lines += [f"• {mb.display_name or no_name}" for mb in extra[:MAX_NAMES]]
    ctx.ask("\n".join(lines), [(_("⬅️ Về lớp"), f"class.show:{klass.id}")], replace_previous=ctx.answering_prompt)


@router.action("class.matches")
async def on_matches(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    _ = ctx._
    klass = await roster.managed_class(ctx.uow, ctx.user, _int(arg), _)
    pending = await roster.auto_link(ctx.uow, klass.id)
    if not pending:
        await show_class(ctx, str(klass.id), _("Không còn học sinh nào cần xác nhận."))
        return
    first = pending[0]
    options = [
        (
            f"{e.full_name}" + (f" ({e.student_code})" if e.student_code else ""),
            f"class.link:{klass.id}.{first.member.user_id}.{e.id}",
        )
        for e in first.candidates
    ]
    ctx.ask(
        _("Học sinh “{name}” đã vào lớp {klass}. Em ấy là ai trong danh sách lớp?").format(
            name=first.member.display_name, klass=klass.name
        ),
        options + [(_("Không có trong danh sách"), f"class.show:{klass.id}")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("class.link")
async def on_link(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    parts = arg.split(".")
    class_id, member_id, entry_id = (_int(p) for p in (parts + ["", "", ""])[:3])
    await roster.confirm_match(ctx.uow, ctx.user, class_id, member_id, entry_id, ctx.now, ctx._)
    ctx.say(ctx._("✅ Đã ghép học sinh với danh sách lớp."))
    await on_matches(ctx, str(class_id))


@router.action("class.rename")
async def on_rename(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    klass = await roster.managed_class(ctx.uow, ctx.user, _int(arg), ctx._)
    ctx.set_flow("classes", "class.rename_text", class_id=klass.id)
    ctx.ask(
        ctx._("Thầy/cô gõ tên mới cho lớp {name}:").format(name=klass.name), [(ctx._("Hủy"), f"class.show:{klass.id}")]
    )


@router.text("class.rename_text")
async def on_rename_text(ctx: Context, text: str) -> None:
    require_role(ctx, *STAFF)
    _ = ctx._
    if roster.clean_class_name(text) is None:
        ctx.repeat_prompt(_("Tên lớp từ 1 đến 20 ký tự. Thầy/cô gõ lại nhé."))
        return
    klass = await roster.rename_class(ctx.uow, ctx.user, int(ctx.conv.data.get("class_id", 0)), text, ctx.now, _)
    await show_class(ctx, str(klass.id), _("✅ Đã đổi tên lớp thành {name}.").format(name=klass.name))


@router.action("class.newcode")
async def on_new_code(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    klass = await roster.new_join_code(ctx.uow, ctx.user, _int(arg), ctx.now, ctx._)
    await show_class(
        ctx, str(klass.id), ctx._("🔑 Mã lớp mới: {code}. Mã cũ không dùng được nữa.").format(code=klass.join_code)
    )


@router.action("class.archive")
async def on_archive(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    _ = ctx._
    klass = await roster.managed_class(ctx.uow, ctx.user, _int(arg), _)
    ctx.ask(
        _("Lưu trữ lớp {name}? Học sinh không vào lớp bằng mã được nữa và lớp không nhận bài mới.").format(
            name=klass.name
        ),
        [(_("🗄️ Lưu trữ"), f"class.archive_yes:{klass.id}"), (_("Hủy"), f"class.show:{klass.id}")],
    )


@router.action("class.archive_yes")
async def on_archive_yes(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    klass = await roster.archive_class(ctx.uow, ctx.user, _int(arg), ctx.now, ctx._)
    await show_menu(ctx, ctx._("🗄️ Đã lưu trữ lớp {name}.").format(name=klass.name))


# --- sending a lesson or quiz ---


@router.command("broadcast", "guibai")
async def cmd_broadcast(ctx: Context, _args: str) -> None:
    await on_new(ctx, "")


@router.action("bc.new")
async def on_new(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    _ = ctx._
    classes = await roster.visible_classes(ctx.uow, ctx.user)
    if not classes:
        await show_menu(ctx, _("Thầy/cô chưa có lớp nào. Tạo lớp trước nhé."))
        return
    chosen = [(await roster.managed_class(ctx.uow, ctx.user, _int(arg), _)).id] if _int(arg) else []
    ctx.set_flow("bc", "", classes=chosen)
    ctx.ask(
        _("📣 Thầy/cô muốn gửi bài về chủ đề nào?"),
        [(topic_name(ctx, t), f"bc.topic:{t}") for t in TOPIC_NAMES] + [(_("Hủy"), "menu")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("bc.topic")
async def on_topic(ctx: Context, topic: str) -> None:
    require_role(ctx, *STAFF)
    _ = ctx._
    lessons = sorted(ctx.content.lessons_on(ctx.today, topic=topic), key=lambda x: (x.band, x.id))
    options = [(lesson.title, f"bc.pick:lesson.{lesson.id}") for lesson in lessons]
    options.append((_("✍️ Bài luyện tập chủ đề này"), f"bc.pick:practice.{topic}"))
    ctx.ask(
        _("{topic}\nThầy/cô chọn bài để gửi:").format(topic=topic_name(ctx, topic)),
        options + [(_("⬅️ Chủ đề khác"), "bc.new")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("bc.pick")
async def on_pick(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    kind, _sep, ref = arg.partition(".")
    ctx.conv.data.update(kind=kind, ref=ref)
    if ctx.conv.data.get("classes"):
        await _ask_due(ctx)
    else:
        await _ask_classes(ctx)


async def _ask_classes(ctx: Context) -> None:
    _ = ctx._
    chosen = set(ctx.conv.data.get("classes", []))
    classes = await roster.visible_classes(ctx.uow, ctx.user)
    options = [(("☑️ " if c.id in chosen else "⬜ ") + c.name, f"bc.toggle:{c.id}") for c in classes]
    options.append((_("Tiếp tục ▶️"), "bc.classes_done"))
    ctx.ask(
        _("Gửi cho lớp nào? Thầy/cô chọn một hoặc nhiều lớp rồi bấm “Tiếp tục”."),
        options + [(_("Hủy"), "menu")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("bc.toggle")
async def on_toggle(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    klass = await roster.managed_class(ctx.uow, ctx.user, _int(arg), ctx._)
    chosen = list(ctx.conv.data.get("classes", []))
    chosen = [c for c in chosen if c != klass.id] if klass.id in chosen else [*chosen, klass.id]
    ctx.conv.data["classes"] = chosen
    await _ask_classes(ctx)


@router.action("bc.classes_done")
async def on_classes_done(ctx: Context, _arg: str) -> None:
    require_role(ctx, *STAFF)
    if not ctx.conv.data.get("classes"):
        ctx.say(ctx._("Thầy/cô chọn ít nhất một lớp nhé."))
        await _ask_classes(ctx)
        return
    await _ask_due(ctx)


async def _ask_due(ctx: Context) -> None:
    _ = ctx._
    ctx.ask(
        _("Hạn hoàn thành?"),
        [
            (_("Không đặt hạn"), "bc.due:0"),
            (_("3 ngày"), "bc.due:3"),
            (_("1 tuần"), "bc.due:7"),
            (_("Hủy"), "menu"),
        ],
        replace_previous=ctx.answering_prompt,
    )


@router.action("bc.due")
async def on_due(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    _ = ctx._
    days = _int(arg)
    ctx.conv.data["due"] = days
    data = ctx.conv.data
    plan = await broadcasts.preview(
        ctx.uow,
        ctx.user,
        str(data.get("kind")),
        str(data.get("ref")),
        list(data.get("classes", [])),
        ctx.content,
        ctx.today,
        _,
    )
    lines = [
        _("📣 Xem trước:"),
        _("Bài: {title}").format(title=plan.title),
        _("Lớp: {classes}").format(classes=", ".join(plan.class_names)),
        _("Gửi tới {n} học sinh.").format(n=plan.students),
    ]
    if plan.unreachable:
        lines.append(_("{n} em đã chặn bot nên sẽ không nhận được.").format(n=plan.unreachable))
    if days:
        lines.append(
            _("Hạn hoàn thành: {date}.").format(date=(ctx.today + dt.timedelta(days=days)).strftime("%d/%m/%Y"))
        )
    ctx.ask(
        "\n".join(lines),
        [
            (_("✅ Gửi ngay"), "bc.send:now"),
            (_("⏰ Gửi lúc 7 giờ sáng mai"), "bc.send:morning"),
            (_("Hủy"), "menu"),
        ],
        replace_previous=ctx.answering_prompt,
    )


@router.action("bc.send")
async def on_send(ctx: Context, when: str) -> None:
    require_role(ctx, *STAFF)
    _ = ctx._
    data = ctx.conv.data
    if not data.get("kind") or not data.get("classes"):
        await show_menu(ctx, _("Lựa chọn này đã cũ rồi. Thầy/cô bắt đầu lại nhé."))
        return
    send_at = None
    if when == "morning":
        tomorrow = ctx.today + dt.timedelta(days=1)
        send_at = dt.datetime.combine(tomorrow, dt.time(7, 0), VN_TZ).astimezone(dt.UTC)
    days = int(data.get("due", 0) or 0)
    due_on = ctx.today + dt.timedelta(days=days) if days else None
    bc, plan = await broadcasts.create_broadcast(
        ctx.uow,
        ctx.user,
        str(data["kind"]),
        str(data["ref"]),
        list(data["classes"]),
        ctx.content,
        ctx.now,
        send_at=send_at,
        due_on=due_on,
        _=_,
    )
    msg = (
        _("✅ Đã xếp gửi “{title}” tới {n} học sinh. Bot gửi dần trong vài phút.")
        if send_at is None
        else _("⏰ Sẽ gửi “{title}” tới {n} học sinh lúc 7 giờ sáng mai.")
    ).format(title=plan.title, n=plan.students)
    ctx.clear()
    ctx.ask(msg, [(_("📊 Xem tiến độ"), f"bc.show:{bc.id}"), (_("⬅️ Về menu"), "menu")])


# --- progress and reminders ---


@router.action("bc.list")
async def on_list(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    _ = ctx._
    if _int(arg):
        class_ids = [(await roster.managed_class(ctx.uow, ctx.user, _int(arg), _)).id]
    else:
        class_ids = [c.id for c in await roster.visible_classes(ctx.uow, ctx.user)]
    sent = await ctx.uow.broadcasts.for_classes(class_ids, limit=10)
    if not sent:
        await show_menu(ctx, _("Chưa có bài nào được gửi."))
        return
    options = [
        (
            b.created_at.astimezone(VN_TZ).strftime("%d/%m – ") + broadcasts.title_of(ctx.content, b.kind, b.ref, _),
            f"bc.show:{b.id}",
        )
        for b in sent
    ]
    ctx.ask(_("📊 Bài đã gửi gần đây:"), options + [(_("⬅️ Về menu"), "menu")], replace_previous=ctx.answering_prompt)


def _counts_line(ctx: Context, label: str, c: broadcasts.Counts) -> str:
    _ = ctx._
    line = _("{label}: {n} em – đã nhận {d}, đã mở {o}, hoàn thành {c}").format(
        label=label, n=c.students, d=c.delivered, o=c.opened, c=c.completed
    )
    extra = []
    if c.waiting:
        extra.append(_("{n} đang chờ gửi").format(n=c.waiting))
    if c.unreachable:
        extra.append(_("{n} không liên lạc được").format(n=c.unreachable))
    if c.unknown:
        extra.append(_("{n} không rõ đã nhận chưa").format(n=c.unknown))
    if c.failed:
        extra.append(_("{n} gửi lỗi").format(n=c.failed))
    return line + (" (" + ", ".join(extra) + ")" if extra else "")


@router.action("bc.show")
async def on_show(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    _ = ctx._
    bc = await broadcasts.visible_broadcast(ctx.uow, ctx.user, _int(arg), _)
    view = await broadcasts.progress(ctx.uow, bc)
    names = {}
    for cid in bc.class_ids:
        klass = await ctx.uow.classes.get(cid)
        names[cid] = klass.name if klass else "?"
    lines = [_("📊 {title}").format(title=broadcasts.title_of(ctx.content, bc.kind, bc.ref, _))]
    lines.append(_("Gửi lúc {at}.").format(at=bc.send_at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")))
    if bc.due_on:
        lines.append(_("Hạn hoàn thành: {date}.").format(date=bc.due_on.strftime("%d/%m/%Y")))
    if len(bc.class_ids) > 1:
        for cid in bc.class_ids:
            lines.append(_counts_line(ctx, names[cid], view.per_class.get(cid, broadcasts.Counts())))
    lines.append(_counts_line(ctx, _("Tổng"), view.total))
    missing = view.not_completed
    if missing:
        lines += ["", _("Chưa hoàn thành ({n}):").format(n=len(missing))]
        for s in missing[:MAX_NAMES]:
            label = f"{s.name} ({names.get(s.class_id or 0, '')})" if len(bc.class_ids) > 1 else s.name
            if s.delivery == "unreachable":
                label += _(" – không liên lạc được")
            lines.append(f"• {label}")
        if len(missing) > MAX_NAMES:
            lines.append(_("… và {n} em nữa.").format(n=len(missing) - MAX_NAMES))
    options = [(_("🔔 Nhắc các em chưa hoàn thành"), f"bc.remind:{bc.id}")] if missing else []
    ctx.ask(
        "\n".join(lines),
        options + [(_("⬅️ Bài đã gửi"), "bc.list"), (_("⬅️ Về menu"), "menu")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("bc.remind")
async def on_remind(ctx: Context, arg: str) -> None:
    require_role(ctx, *STAFF)
    n = await broadcasts.send_reminder(ctx.uow, ctx.user, _int(arg), ctx.content, ctx.now, ctx._)
    ctx.ask(
        ctx._("🔔 Đã xếp gửi lời nhắc tới {n} em chưa hoàn thành.").format(n=n),
        [(ctx._("📊 Xem tiến độ"), f"bc.show:{_int(arg)}"), (ctx._("⬅️ Về menu"), "menu")],
    )
