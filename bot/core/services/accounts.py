"""Joining classes and redeeming invites: the rules, apart from the conversation that asks for them."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from bot.core.context import Context, UserFacingError
from bot.core.i18n import N_
from bot.core.ports import ClassRec
from bot.core.text import normalise_code

ROLE_NAMES = {
    "school_admin": N_("quản trị trường"),
    "teacher": N_("giáo viên"),
    "organizer": N_("ban tổ chức"),
    "student": N_("học sinh"),
}
_NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '.-][^\W\d_]+)*$")


def clean_display_name(text: str) -> str | None:
    """A name of 2–60 letters; no digits, so nobody leaves a phone number here by mistake."""
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not 2 <= len(name) <= 60 or not _NAME_RE.match(name):
        return None
    return name


async def find_class(ctx: Context, raw_code: str) -> ClassRec | None:
    code = normalise_code(raw_code)
    if not 4 <= len(code) <= 16:
        return None
    klass = await ctx.uow.classes.by_code(code)
    return None if klass is None or klass.archived else klass


async def join_class(ctx: Context, klass: ClassRec) -> bool:
    if ctx.user.role != "student":
        raise UserFacingError(ctx._('Mã lớp dành cho học sinh. Thầy/cô quản lý lớp ở mục "Lớp của tôi".'))
    return await ctx.uow.classes.add_member(ctx.user.id, klass.id, ctx.now)


async def redeem_invite(ctx: Context, raw_code: str) -> str | None:
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


def invite_expiry(ctx: Context) -> dt.datetime:
    return ctx.now + dt.timedelta(hours=ctx.settings.invite_ttl_hours)
