"""Sending a lesson or practice quiz to classes, the progress of what was sent, and reminders: the teacher's side
of broadcasts (the sender delivers them, `bot.broadcasts.sender`)."""

from __future__ import annotations

import datetime as dt

from bot.accounts.menu import show_menu
from bot.broadcasts import roster
from bot.broadcasts import service as broadcasts
from bot.broadcasts.classes import MAX_NAMES, int_arg
from bot.broadcasts.ports import Ctx
from bot.core.clock import vn_datetime, vn_time
from bot.core.delivery import NOT_SENT_REASONS
from bot.core.roles import SCHOOL_STAFF, require_role
from bot.core.router import Router
from bot.learning.topics import TOPIC_NAMES, topic_name

router = Router()


@router.command("broadcast", "guibai")
async def cmd_broadcast(ctx: Ctx, _args: str) -> None:
    await on_new(ctx, "")


@router.action("bc.new")
async def on_new(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    _ = ctx._
    classes = await roster.visible_classes(ctx.uow, ctx.user)
    if not classes:
        await show_menu(ctx, _("Thầy/cô chưa có lớp nào. Tạo lớp trước nhé."))
        return
    chosen = [(await roster.managed_class(ctx.uow, ctx.user, int_arg(arg))).id] if int_arg(arg) else []
    ctx.set_flow("bc", "", classes=chosen)
    ctx.ask(
        _("📣 Thầy/cô muốn gửi bài về chủ đề nào?"),
        [(topic_name(ctx, t), f"bc.topic:{t}") for t in TOPIC_NAMES] + [(_("Hủy"), "menu")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("bc.topic")
async def on_topic(ctx: Ctx, topic: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    _ = ctx._
    lessons = sorted(ctx.env.content.lessons_on(ctx.today, topic=topic), key=lambda x: (x.band, x.id))
    options = [(lesson.title, f"bc.pick:lesson.{lesson.id}") for lesson in lessons]
    options.append((_("✍️ Bài luyện tập chủ đề này"), f"bc.pick:practice.{topic}"))
    ctx.ask(
        _("{topic}\nThầy/cô chọn bài để gửi:").format(topic=topic_name(ctx, topic)),
        options + [(_("⬅️ Chủ đề khác"), "bc.new")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("bc.pick")
async def on_pick(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    kind, _sep, ref = arg.partition(".")
    ctx.conv.data.update(kind=kind, ref=ref)
    if ctx.conv.data.get("classes"):
        await _ask_due(ctx)
    else:
        await _ask_classes(ctx)


async def _ask_classes(ctx: Ctx) -> None:
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
async def on_toggle(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    klass = await roster.managed_class(ctx.uow, ctx.user, int_arg(arg))
    chosen = list(ctx.conv.data.get("classes", []))
    chosen = [c for c in chosen if c != klass.id] if klass.id in chosen else [*chosen, klass.id]
    ctx.conv.data["classes"] = chosen
    await _ask_classes(ctx)


@router.action("bc.classes_done")
async def on_classes_done(ctx: Ctx, _arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    if not ctx.conv.data.get("classes"):
        ctx.say(ctx._("Thầy/cô chọn ít nhất một lớp nhé."))
        await _ask_classes(ctx)
        return
    await _ask_due(ctx)


async def _ask_due(ctx: Ctx) -> None:
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
async def on_due(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    _ = ctx._
    days = int_arg(arg)
    ctx.conv.data["due"] = days
    data = ctx.conv.data
    plan = await broadcasts.preview(
        ctx.uow,
        ctx.user,
        str(data.get("kind")),
        str(data.get("ref")),
        list(data.get("classes", [])),
        ctx.env.content,
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
async def on_send(ctx: Ctx, when: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    _ = ctx._
    data = ctx.conv.data
    if not data.get("kind") or not data.get("classes"):
        await show_menu(ctx, _("Lựa chọn này đã cũ rồi. Thầy/cô bắt đầu lại nhé."))
        return
    send_at = None
    if when == "morning":
        tomorrow = ctx.today + dt.timedelta(days=1)
        send_at = vn_datetime(tomorrow, dt.time(7, 0))
    days = int(data.get("due", 0) or 0)
    due_on = ctx.today + dt.timedelta(days=days) if days else None
    bc, plan = await broadcasts.create_broadcast(
        ctx.uow,
        ctx.user,
        str(data["kind"]),
        str(data["ref"]),
        list(data["classes"]),
        ctx.env.content,
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
async def on_list(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    _ = ctx._
    if int_arg(arg):
        class_ids = [(await roster.managed_class(ctx.uow, ctx.user, int_arg(arg))).id]
    else:
        class_ids = [c.id for c in await roster.visible_classes(ctx.uow, ctx.user)]
    sent = await ctx.uow.broadcasts.for_classes(class_ids, limit=10)
    if not sent:
        await show_menu(ctx, _("Chưa có bài nào được gửi."))
        return
    options = [
        (
            vn_time(b.created_at, "%d/%m – ") + broadcasts.title_of(ctx.env.content, b.kind, b.ref, _),
            f"bc.show:{b.id}",
        )
        for b in sent
    ]
    ctx.ask(_("📊 Bài đã gửi gần đây:"), options + [(_("⬅️ Về menu"), "menu")], replace_previous=ctx.answering_prompt)


def _counts_line(ctx: Ctx, label: str, c: broadcasts.Counts) -> str:
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
    if c.not_sent:
        extra.append(_("{n} chưa gửi được").format(n=c.not_sent))
    return line + (" (" + ", ".join(extra) + ")" if extra else "")


@router.action("bc.show")
async def on_show(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    _ = ctx._
    bc = await broadcasts.visible_broadcast(ctx.uow, ctx.user, int_arg(arg))
    view = await broadcasts.progress(ctx.uow, bc)
    names = {}
    for cid in bc.class_ids:
        klass = await ctx.uow.classes.get(cid)
        names[cid] = klass.name if klass else "?"
    lines = [_("📊 {title}").format(title=broadcasts.title_of(ctx.env.content, bc.kind, bc.ref, _))]
    lines.append(_("Gửi lúc {at}.").format(at=vn_time(bc.send_at)))
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
            elif s.delivery == "not_sent":
                label += _(" – chưa gửi được ({reason})").format(reason=_(NOT_SENT_REASONS.get(s.reason or "", "?")))
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
async def on_remind(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    n = await broadcasts.send_reminder(ctx.uow, ctx.user, int_arg(arg), ctx.now)
    ctx.ask(
        ctx._("🔔 Đã xếp gửi lời nhắc tới {n} em chưa hoàn thành.").format(n=n),
        [(ctx._("📊 Xem tiến độ"), f"bc.show:{int_arg(arg)}"), (ctx._("⬅️ Về menu"), "menu")],
    )
