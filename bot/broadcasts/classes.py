"""A teacher's class: its page (rename, archive, a new join code), its roster, and matching the students who
join to the roster's rows."""

from __future__ import annotations

from bot.accounts.menu import show_menu
from bot.accounts.service import classes_named
from bot.broadcasts import roster
from bot.broadcasts.ports import Ctx
from bot.core.roles import SCHOOL_STAFF, require_role
from bot.core.router import Router

router = Router()
MAX_NAMES = 40  # names listed in one message; the rest are counted


def int_arg(arg: str) -> int:
    return int(arg) if arg.isdigit() else 0


# --- one class ---


@router.action("class.show")
async def on_show_class(ctx: Ctx, arg: str) -> None:
    await show_class(ctx, arg)


async def show_class(ctx: Ctx, arg: str, prefix: str = "") -> None:
    require_role(ctx, *SCHOOL_STAFF)
    _ = ctx._
    klass = await roster.managed_class(ctx.uow, ctx.user, int_arg(arg))
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
async def on_roster(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    _ = ctx._
    klass = await roster.managed_class(ctx.uow, ctx.user, int_arg(arg))
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
async def on_matches(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    _ = ctx._
    klass = await roster.managed_class(ctx.uow, ctx.user, int_arg(arg))
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
        options + [(_("Không có trong danh sách"), f"class.unlisted:{klass.id}.{first.member.user_id}")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("class.link")
async def on_link(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    parts = arg.split(".")
    class_id, member_id, entry_id = (int_arg(p) for p in (parts + ["", "", ""])[:3])
    await roster.confirm_match(ctx.uow, ctx.user, class_id, member_id, entry_id, ctx.now)
    ctx.say(ctx._("✅ Đã ghép học sinh với danh sách lớp."))
    await on_matches(ctx, str(class_id))


@router.action("class.unlisted")
async def on_unlisted(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    class_id, member_id = (int_arg(p) for p in (arg.split(".") + ["", ""])[:2])
    await roster.not_on_roster(ctx.uow, ctx.user, class_id, member_id, ctx.now)
    ctx.say(ctx._("Đã ghi nhận: em không có trong danh sách lớp. Khi nhập danh sách mới, bot sẽ hỏi lại."))
    await on_matches(ctx, str(class_id))


@router.action("class.rename")
async def on_rename(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    klass = await roster.managed_class(ctx.uow, ctx.user, int_arg(arg))
    ctx.set_flow("classes", "class.rename_text", class_id=klass.id)
    ctx.ask(
        ctx._("Thầy/cô gõ tên mới cho lớp {name}:").format(name=klass.name), [(ctx._("Hủy"), f"class.show:{klass.id}")]
    )


@router.text("class.rename_text")
async def on_rename_text(ctx: Ctx, text: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    _ = ctx._
    name = roster.clean_class_name(text)
    if name is None:
        ctx.repeat_prompt(_("Tên lớp từ 1 đến 20 ký tự. Thầy/cô gõ lại nhé."))
        return
    klass = await roster.managed_class(ctx.uow, ctx.user, int(ctx.conv.data.get("class_id", 0)))
    twins = await classes_named(ctx.uow.classes, klass.school_id, name, klass.school_year)
    if any(c.id != klass.id for c in twins):
        # As when creating a class: two classes of one name in one school year are made only on purpose.
        ctx.set_flow("classes", "class.rename_confirm", class_id=klass.id, name=name)
        ctx.ask(
            _(
                "Năm học {year}, trường đã có lớp {name}. Thầy/cô có chắc muốn đổi tên lớp {old} thành {name} không?"
            ).format(year=klass.school_year, name=name, old=klass.name),
            [(_("✅ Vẫn đổi tên"), "class.rename_confirm"), (_("Hủy"), f"class.show:{klass.id}")],
        )
        return
    await _rename(ctx, klass.id, name)


@router.action("class.rename_confirm")
async def on_rename_confirm(ctx: Ctx, _arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    class_id, name = ctx.conv.data.get("class_id"), ctx.conv.data.get("name")
    # Only the question just asked: after a cancel or another step, the tap is an old one.
    if ctx.conv.step != "class.rename_confirm" or not isinstance(class_id, int) or not isinstance(name, str):
        raise ctx.stale()
    await _rename(ctx, class_id, name)


async def _rename(ctx: Ctx, class_id: int, name: str) -> None:
    klass = await roster.rename_class(ctx.uow, ctx.user, class_id, name, ctx.now)
    await show_class(ctx, str(klass.id), ctx._("✅ Đã đổi tên lớp thành {name}.").format(name=klass.name))


@router.action("class.newcode")
async def on_new_code(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    klass = await roster.new_join_code(ctx.uow, ctx.user, int_arg(arg), ctx.now)
    await show_class(
        ctx, str(klass.id), ctx._("🔑 Mã lớp mới: {code}. Mã cũ không dùng được nữa.").format(code=klass.join_code)
    )


@router.action("class.archive")
async def on_archive(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    _ = ctx._
    klass = await roster.managed_class(ctx.uow, ctx.user, int_arg(arg))
    ctx.ask(
        _("Lưu trữ lớp {name}? Học sinh không vào lớp bằng mã được nữa và lớp không nhận bài mới.").format(
            name=klass.name
        ),
        [(_("🗄️ Lưu trữ"), f"class.archive_yes:{klass.id}"), (_("Hủy"), f"class.show:{klass.id}")],
    )


@router.action("class.archive_yes")
async def on_archive_yes(ctx: Ctx, arg: str) -> None:
    require_role(ctx, *SCHOOL_STAFF)
    klass = await roster.archive_class(ctx.uow, ctx.user, int_arg(arg), ctx.now)
    await show_menu(ctx, ctx._("🗄️ Đã lưu trữ lớp {name}.").format(name=klass.name))
