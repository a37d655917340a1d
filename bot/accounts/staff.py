"""Organizers add schools and invite school admins; school admins invite teachers; teachers create classes."""

from __future__ import annotations

from bot.accounts import service as accounts
from bot.accounts.menu import show_menu
from bot.accounts.ports import Ctx
from bot.core.codes import new_code
from bot.core.errors import UserFacingError
from bot.core.roles import ROLE_NAMES, Role, require_role
from bot.core.router import Router

router = Router()


def school_year(ctx: Ctx) -> str:
    return accounts.school_year_on(ctx.today)


@router.command("classes", "lop")
async def cmd_classes(ctx: Ctx, _args: str) -> None:
    require_role(ctx, Role.TEACHER, Role.SCHOOL_ADMIN)
    _ = ctx._
    if ctx.user.role == Role.SCHOOL_ADMIN and ctx.user.school_id is not None:
        classes = await ctx.uow.classes.for_school(ctx.user.school_id)
    else:
        classes = await ctx.uow.classes.for_teacher(ctx.user.id)
    if not classes:
        ctx.ask(
            _("Chưa có lớp nào. Thầy/cô tạo lớp mới nhé."),
            [(_("➕ Tạo lớp"), "staff.new_class"), (_("⬅️ Về menu"), "menu")],
        )
        return
    lines = [_("🏫 Danh sách lớp:")]
    for c in classes:
        n = await ctx.uow.classes.member_count(c.id)
        lines.append(
            _("• {name} (khối {grade}, {year}) – mã lớp {code} – {n} học sinh").format(
                name=c.name, grade=c.grade, year=c.school_year, code=c.join_code, n=n
            )
        )
    ctx.ask(
        "\n".join(lines),
        [(f"🏫 {c.name}", f"class.show:{c.id}") for c in classes]
        + [(_("➕ Tạo lớp"), "staff.new_class"), (_("⬅️ Về menu"), "menu")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("staff.classes")
async def on_classes(ctx: Ctx, _arg: str) -> None:
    await cmd_classes(ctx, "")


@router.command("newclass", "taolop")
async def cmd_new_class(ctx: Ctx, _args: str) -> None:
    require_role(ctx, Role.TEACHER, Role.SCHOOL_ADMIN)
    _ = ctx._
    if ctx.user.school_id is None:
        raise UserFacingError(_("Tài khoản của thầy/cô chưa gắn với trường nào. Thầy/cô xin mã mời từ nhà trường nhé."))
    ctx.set_flow("staff", "staff.class_name")
    ctx.ask(_("Thầy/cô gõ tên lớp (ví dụ: 7A):"), [(_("Hủy"), "menu")])


@router.action("staff.new_class")
async def on_new_class(ctx: Ctx, _arg: str) -> None:
    await cmd_new_class(ctx, "")


@router.text("staff.class_name")
async def on_class_name(ctx: Ctx, text: str) -> None:
    _ = ctx._
    name = " ".join(text.split())
    if not 1 <= len(name) <= 20:
        ctx.repeat_prompt(_("Tên lớp từ 1 đến 20 ký tự. Thầy/cô gõ lại nhé."))
        return
    ctx.set_flow("staff", "class_grade", name=name)
    ctx.ask(
        _("Lớp {name} thuộc khối mấy?").format(name=name),
        [(str(g), f"staff.class_grade:{g}") for g in range(1, 10)] + [(_("Hủy"), "menu")],
        columns=3,
    )


@router.action("staff.class_grade")
async def on_class_grade(ctx: Ctx, arg: str) -> None:
    require_role(ctx, Role.TEACHER, Role.SCHOOL_ADMIN)
    _ = ctx._
    name = str(ctx.conv.data.get("name", ""))
    if not name or not arg.isdigit() or not 1 <= int(arg) <= 9 or ctx.user.school_id is None:
        raise ctx.stale()
    grade, school_id = int(arg), ctx.user.school_id
    if await accounts.classes_named(ctx.uow.classes, school_id, name, school_year(ctx)):
        # Two classes of one name in one school year confuse students joining and every report: ask first.
        ctx.set_flow("staff", "class_confirm", name=name, grade=grade)
        ctx.ask(
            _(
                "Năm học {year}, trường đã có lớp {name}. Thầy/cô có chắc muốn tạo thêm một lớp {name} nữa không?"
            ).format(year=school_year(ctx), name=name),
            [(_("✅ Vẫn tạo lớp"), "staff.class_confirm"), (_("Hủy"), "menu")],
            replace_previous=ctx.answering_prompt,
        )
        return
    await _create_class(ctx, school_id, name, grade)


@router.action("staff.class_confirm")
async def on_class_confirm(ctx: Ctx, _arg: str) -> None:
    require_role(ctx, Role.TEACHER, Role.SCHOOL_ADMIN)
    name, grade = ctx.conv.data.get("name"), ctx.conv.data.get("grade")
    # Only the question just asked: after a cancel, a creation or another step, the tap is an old one.
    if ctx.conv.step != "class_confirm" or not isinstance(name, str) or not name or not isinstance(grade, int):
        raise ctx.stale()
    if ctx.user.school_id is None:
        raise ctx.stale()
    await _create_class(ctx, ctx.user.school_id, name, grade)


async def _create_class(ctx: Ctx, school_id: int, name: str, grade: int) -> None:
    _ = ctx._
    code = new_code(6)
    while await ctx.uow.classes.by_code(code) is not None:
        code = new_code(6)
    klass = await ctx.uow.classes.create(school_id, ctx.user.id, name, grade, school_year(ctx), code, ctx.now)
    await ctx.uow.audit.add(ctx.user.id, "class.create", f"class:{klass.id}", {"grade": klass.grade}, ctx.now)
    lines = [
        _("✅ Đã tạo lớp {name} (khối {grade}).").format(name=klass.name, grade=klass.grade),
        _("Mã lớp: {code}").format(code=klass.join_code),
        _("Học sinh gõ mã này khi bắt đầu trò chuyện với bot."),
    ]
    link = ctx.deep_link(klass.join_code)
    if link:
        lines.append(_("Hoặc bấm đường link: {link}").format(link=link))
    await show_menu(ctx, "\n".join(lines))


@router.command("newschool", "themtruong")
async def cmd_new_school(ctx: Ctx, _args: str) -> None:
    require_role(ctx, Role.ORGANIZER)
    ctx.set_flow("staff", "staff.school_name")
    ctx.ask(ctx._("Thầy/cô gõ tên trường (ví dụ: Trường THCS Lê Lợi):"), [(ctx._("Hủy"), "menu")])


@router.action("staff.new_school")
async def on_new_school(ctx: Ctx, _arg: str) -> None:
    await cmd_new_school(ctx, "")


@router.text("staff.school_name")
async def on_school_name(ctx: Ctx, text: str) -> None:
    require_role(ctx, Role.ORGANIZER)
    _ = ctx._
    name = " ".join(text.split())
    if not 3 <= len(name) <= 200:
        ctx.repeat_prompt(_("Tên trường từ 3 đến 200 ký tự. Thầy/cô gõ lại nhé."))
        return
    school = await ctx.uow.schools.create(name, ctx.now)
    await ctx.uow.audit.add(ctx.user.id, "school.create", f"school:{school.id}", {}, ctx.now)
    await show_menu(ctx, _("✅ Đã thêm {name}.").format(name=school.name))


@router.action("staff.schools")
async def on_schools(ctx: Ctx, _arg: str) -> None:
    require_role(ctx, Role.ORGANIZER)
    _ = ctx._
    schools = await ctx.uow.schools.list()
    lines = [_("🏫 Các trường:")] + [f"• {s.name}" for s in schools] if schools else [_("Chưa có trường nào.")]
    ctx.ask("\n".join(lines), [(_("➕ Thêm trường"), "staff.new_school"), (_("⬅️ Về menu"), "menu")])


@router.command("invite", "moi")
async def cmd_invite(ctx: Ctx, _args: str) -> None:
    require_role(ctx, Role.ORGANIZER, Role.SCHOOL_ADMIN)
    if ctx.user.role == Role.SCHOOL_ADMIN:
        await _make_invite(ctx, Role.TEACHER, ctx.user.school_id)
    else:
        await on_invite_admin(ctx, "")


@router.action("staff.invite_teacher")
async def on_invite_teacher(ctx: Ctx, _arg: str) -> None:
    require_role(ctx, Role.SCHOOL_ADMIN)
    await _make_invite(ctx, Role.TEACHER, ctx.user.school_id)


@router.action("staff.invite_admin")
async def on_invite_admin(ctx: Ctx, _arg: str) -> None:
    require_role(ctx, Role.ORGANIZER)
    _ = ctx._
    schools = await ctx.uow.schools.list()
    if not schools:
        ctx.ask(_("Chưa có trường nào. Thầy/cô thêm trường trước nhé."), [(_("➕ Thêm trường"), "staff.new_school")])
        return
    ctx.ask(
        _("Mời quản trị cho trường nào?"),
        [(s.name, f"staff.invite_admin_for:{s.id}") for s in schools] + [(_("Hủy"), "menu")],
    )


@router.action("staff.invite_admin_for")
async def on_invite_admin_for(ctx: Ctx, arg: str) -> None:
    require_role(ctx, Role.ORGANIZER)
    await _make_invite(ctx, Role.SCHOOL_ADMIN, int(arg) if arg.isdigit() else None)


async def _make_invite(ctx: Ctx, role: str, school_id: int | None) -> None:
    _ = ctx._
    school = await ctx.uow.schools.get(school_id) if school_id is not None else None
    if school is None:
        raise UserFacingError(_("Không tìm thấy trường này."))
    prefix = "GV" if role == Role.TEACHER else "QT"
    invite = await ctx.uow.invites.create(
        new_code(8, prefix), role, school.id, ctx.user.id, accounts.invite_expiry(ctx), ctx.now
    )
    await ctx.uow.audit.add(ctx.user.id, "invite.create", f"school:{school.id}", {"role": role}, ctx.now)
    lines = [
        _("✉️ Mã mời {role} của {school}: {code}").format(
            role=_(ROLE_NAMES[role]), school=school.name, code=invite.code
        ),
        _("Mã dùng được một lần, hết hạn sau {hours} giờ. Người được mời gõ: /start {code}").format(
            hours=ctx.env.invite_ttl_hours, code=invite.code
        ),
    ]
    link = ctx.deep_link(invite.code)
    if link:
        lines.append(link)
    await show_menu(ctx, "\n".join(lines))
