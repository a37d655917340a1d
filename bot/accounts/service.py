"""Joining classes and redeeming invites: the rules, apart from the conversation that asks for them."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from bot.accounts.ports import ClassRec, ClassRepository, Ctx
from bot.core.errors import UserFacingError
from bot.core.ports import UserRec
from bot.core.roles import Role
from bot.core.text import normalise_code

_NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '.-][^\W\d_]+)*$")


def clean_display_name(text: str) -> str | None:
    """A name of 2–60 letters; no digits, so nobody leaves a phone number here by mistake."""
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not 2 <= len(name) <= 60 or not _NAME_RE.match(name):
        return None
    return name


async def find_class(ctx: Ctx, raw_code: str) -> ClassRec | None:
    code = normalise_code(raw_code)
    if not 4 <= len(code) <= 16:
        return None
    klass = await ctx.uow.classes.by_code(code)
    return None if klass is None or klass.archived else klass


async def join_class(ctx: Ctx, klass: ClassRec) -> bool:
    if ctx.user.role != Role.STUDENT:
        raise UserFacingError(ctx._('Mã lớp dành cho học sinh. Thầy/cô quản lý lớp ở mục "Lớp của tôi".'))
    return await ctx.uow.classes.add_member(ctx.user.id, klass.id, ctx.now)


async def redeem_invite(ctx: Ctx, raw_code: str) -> str | None:
    """Make the user a school admin or teacher; returns the role, or None if the code is not an invite."""
    _ = ctx._
    invite = await ctx.uow.invites.by_code(normalise_code(raw_code))
    if invite is None:
        return None
    if invite.used_by is not None or invite.expires_at < ctx.now:
        raise UserFacingError(_("Mã mời này đã được dùng hoặc đã hết hạn. Thầy/cô xin một mã mới nhé."))
    if not await ctx.uow.invites.mark_used(invite.id, ctx.user.id, ctx.now):
        raise UserFacingError(_("Mã mời này đã được dùng hoặc đã hết hạn. Thầy/cô xin một mã mới nhé."))
    await ctx.uow.users.update(ctx.user.id, role=invite.role, school_id=invite.school_id)
    ctx.user.role, ctx.user.school_id = invite.role, invite.school_id
    await ctx.uow.audit.add(ctx.user.id, "invite.redeem", f"school:{invite.school_id}", {"role": invite.role}, ctx.now)
    return invite.role


def invite_expiry(ctx: Ctx) -> dt.datetime:
    return ctx.now + dt.timedelta(hours=ctx.env.invite_ttl_hours)


def can_manage_class(user: UserRec | None, klass: ClassRec) -> bool:
    """The one rule for who acts for a class: its teacher, and the admins of its school. `user` None is the
    operator at the terminal, who acts for every class."""
    if user is None:
        return True
    if user.role == Role.TEACHER:
        return klass.teacher_id == user.id
    if user.role == Role.SCHOOL_ADMIN:
        return user.school_id is not None and klass.school_id == user.school_id
    return False


def school_year_on(day: dt.date) -> str:
    """The school year a day falls in, as classes name it ("2026-2027"): a new one starts in August."""
    y = day.year
    return f"{y}-{y + 1}" if day.month >= 8 else f"{y - 1}-{y}"


def same_class_name(a: str, b: str) -> bool:
    """ "7A", "7a" and " 7A " name one class; diacritics make another name ("Sơn Ca" is not "Son Ca")."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


async def classes_named(classes: ClassRepository, school_id: int, name: str, school_year: str) -> list[ClassRec]:
    """The school's classes (not archived) of that school year that already bear this name."""
    return [
        c for c in await classes.for_school(school_id) if c.school_year == school_year and same_class_name(c.name, name)
    ]
