"""Classes and their rosters: who may manage a class, renaming, archiving, new join codes, importing a roster
sheet, and matching the students who join to its rows."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.accounts.ports import AccountsUnitOfWork, ClassRec
from bot.accounts.service import can_manage_class, clean_display_name
from bot.broadcasts.ports import BroadcastsUnitOfWork, MemberRec, RosterRec
from bot.core.codes import new_code
from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.core.roles import Role
from bot.core.text import fold

Gettext = Callable[[str], str]
_CODE_RE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
# Names this close (0..1, on folded text) are offered to the teacher to confirm, never linked on their own.
FUZZY_RATIO = 0.8


def _same(text: str) -> str:
    return text


async def managed_class(uow: AccountsUnitOfWork, user: UserRec | None, class_id: int) -> ClassRec:
    """The class, if `user` may manage it; otherwise a refusal that says nothing about other people's classes."""
    klass = await uow.classes.get(class_id)
    if klass is None or klass.archived or not can_manage_class(user, klass):
        raise Refusal(N_("Không tìm thấy lớp này trong các lớp thầy/cô quản lý."))
    return klass


async def visible_classes(uow: BroadcastsUnitOfWork, user: UserRec) -> list[ClassRec]:
    if user.role == Role.SCHOOL_ADMIN and user.school_id is not None:
        return await uow.classes.for_school(user.school_id)
    if user.role == Role.TEACHER:
        return await uow.classes.for_teacher(user.id)
    return []


def clean_class_name(text: str) -> str | None:
    name = " ".join(text.split())
    return name if 1 <= len(name) <= 20 else None


async def rename_class(
    uow: BroadcastsUnitOfWork, user: UserRec | None, class_id: int, text: str, now: dt.datetime
) -> ClassRec:
    klass = await managed_class(uow, user, class_id)
    name = clean_class_name(text)
    if name is None:
        raise Refusal(N_("Tên lớp từ 1 đến 20 ký tự. Thầy/cô gõ lại nhé."))
    await uow.rosters.rename_class(klass.id, name)
    await uow.audit.add(user.id if user else None, "class.rename", f"class:{klass.id}", {}, now)
    klass.name = name
    return klass


async def archive_class(uow: BroadcastsUnitOfWork, user: UserRec | None, class_id: int, now: dt.datetime) -> ClassRec:
    klass = await managed_class(uow, user, class_id)
    await uow.rosters.archive_class(klass.id)
    await uow.audit.add(user.id if user else None, "class.archive", f"class:{klass.id}", {}, now)
    klass.archived = True
    return klass


async def new_join_code(uow: BroadcastsUnitOfWork, user: UserRec | None, class_id: int, now: dt.datetime) -> ClassRec:
    """A fresh join code; the old one stops working (e.g. after it was posted somewhere public)."""
    klass = await managed_class(uow, user, class_id)
    code = new_code(6)
    while await uow.classes.by_code(code) is not None:
        code = new_code(6)
    await uow.rosters.set_join_code(klass.id, code)
    await uow.audit.add(user.id if user else None, "class.new_code", f"class:{klass.id}", {}, now)
    klass.join_code = code
    return klass


# --- roster import ---


@dataclass(frozen=True)
class RosterRow:
    row: int  # the row number in the sheet, as the teacher sees it
    full_name: str
    code: str | None


@dataclass
class ImportResult:
    added: int = 0
    already_there: int = 0
    errors: list[str] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a student code typed as a number comes back from the sheet as 12345.0
    return str(value).strip()


def validate_rows(raw: list[tuple[int, Any, Any]], _: Gettext = _same) -> tuple[list[RosterRow], list[str]]:
    """Check (row number, full name, student code) triples; blank rows are skipped. Errors name the row."""
    rows: list[RosterRow] = []
    errors: list[str] = []
    codes: dict[str, int] = {}
    for number, raw_name, raw_code in raw:
        name_text, code = _cell(raw_name), _cell(raw_code) or None
        if not name_text and not code:
            continue
        if not name_text:
            errors.append(_("Dòng {row}: thiếu họ và tên.").format(row=number))
            continue
        name = clean_display_name(name_text)
        if name is None:
            errors.append(
                _("Dòng {row}: họ và tên “{name}” không hợp lệ (chỉ gồm chữ cái, từ 2 đến 60 ký tự).").format(
                    row=number, name=name_text[:40]
                )
            )
            continue
        if code is not None:
            if not _CODE_RE.match(code):
                errors.append(
                    _("Dòng {row}: mã học sinh “{code}” chỉ gồm chữ, số, dấu chấm, gạch (tối đa 32 ký tự).").format(
                        row=number, code=code[:40]
                    )
                )
                continue
            if code.upper() in codes:
                errors.append(
                    _("Dòng {row}: mã học sinh “{code}” trùng với dòng {other}.").format(
                        row=number, code=code, other=codes[code.upper()]
                    )
                )
                continue
            codes[code.upper()] = number
        rows.append(RosterRow(number, name, code))
    if not rows and not errors:
        errors.append(_("Bảng không có học sinh nào."))
    return rows, errors


async def import_roster(
    uow: BroadcastsUnitOfWork,
    user: UserRec | None,
    class_id: int,
    raw: list[tuple[int, Any, Any]],
    now: dt.datetime,
    _: Gettext = _same,
) -> ImportResult:
    """Add the sheet's students to the class roster: all of them, or nothing when any row is invalid.

    Rows already on the roster (same student code, or same name when neither has a code) are left alone, so
    importing the same sheet twice changes nothing."""
    klass = await managed_class(uow, user, class_id)
    rows, errors = validate_rows(raw, _)
    if errors:
        return ImportResult(errors=errors)
    existing = await uow.rosters.entries(klass.id)
    known_codes = {e.student_code.upper() for e in existing if e.student_code}
    known_names = {e.name_key for e in existing if not e.student_code}
    new: list[tuple[str, str, str | None]] = []
    result = ImportResult()
    for row in rows:
        key = fold(row.full_name)
        if (row.code and row.code.upper() in known_codes) or (not row.code and key in known_names):
            result.already_there += 1
            continue
        new.append((row.full_name, key, row.code))
    result.added = await uow.rosters.add_entries(klass.id, new, now) if new else 0
    if new:  # a new sheet: whom the teacher found on none of the old rows may be on the new ones
        await uow.rosters.clear_unlisted(klass.id)
    await uow.audit.add(user.id if user else None, "roster.import", f"class:{klass.id}", {"added": result.added}, now)
    await auto_link(uow, klass.id)
    return result


# --- matching students who join to roster rows ---


@dataclass
class PendingMatch:
    """A student who joined and may be one of these roster rows: the teacher decides."""

    member: MemberRec
    candidates: list[RosterRec]


async def auto_link(uow: BroadcastsUnitOfWork, class_id: int) -> list[PendingMatch]:
    """Link members to roster rows where the folded name matches exactly one free row and no other member;
    return the uncertain cases (several rows with that name, or only similar names) for the teacher."""
    entries = await uow.rosters.entries(class_id)
    members = await uow.rosters.members(class_id)
    linked = {e.user_id for e in entries if e.user_id is not None}
    free = [e for e in entries if e.user_id is None]
    # Those the teacher found on none of the rows are left alone until a new sheet is imported.
    unlisted = await uow.rosters.unlisted(class_id)
    unlinked = [mb for mb in members if mb.user_id not in linked and mb.user_id not in unlisted and mb.display_name]
    keys = [fold(mb.display_name or "") for mb in unlinked]
    pending: list[PendingMatch] = []
    for member, key in zip(unlinked, keys, strict=True):
        exact = [e for e in free if e.name_key == key]
        if len(exact) == 1 and keys.count(key) == 1 and await uow.rosters.link(exact[0].id, member.user_id):
            free.remove(exact[0])
            continue
        candidates = exact or [e for e in free if difflib.SequenceMatcher(None, key, e.name_key).ratio() >= FUZZY_RATIO]
        if candidates:
            pending.append(PendingMatch(member, candidates[:5]))
    return pending


async def confirm_match(
    uow: BroadcastsUnitOfWork,
    user: UserRec | None,
    class_id: int,
    member_id: int,
    entry_id: int,
    now: dt.datetime,
) -> RosterRec:
    klass = await managed_class(uow, user, class_id)
    entry = next((e for e in await uow.rosters.entries(klass.id) if e.id == entry_id), None)
    members = {mb.user_id for mb in await uow.rosters.members(klass.id)}
    if entry is None or member_id not in members or not await uow.rosters.link(entry.id, member_id):
        raise Refusal(N_("Không ghép được: học sinh hoặc dòng này đã được ghép rồi."))
    await uow.audit.add(user.id if user else None, "roster.link", f"class:{klass.id}", {}, now)
    return entry


async def not_on_roster(
    uow: BroadcastsUnitOfWork, user: UserRec | None, class_id: int, member_id: int, now: dt.datetime
) -> None:
    """The teacher says a student who joined is on none of the roster's rows: the student stays in the class,
    unmatched, and is not offered again until a new sheet is imported."""
    klass = await managed_class(uow, user, class_id)
    members = {mb.user_id for mb in await uow.rosters.members(klass.id)}
    linked = {e.user_id for e in await uow.rosters.entries(klass.id) if e.user_id is not None}
    if member_id not in members or member_id in linked:
        raise Refusal(N_("Học sinh này không còn chờ xác nhận."))
    if await uow.rosters.mark_unlisted(klass.id, member_id, user.id if user else None, now):
        await uow.audit.add(user.id if user else None, "roster.unlisted", f"class:{klass.id}", {}, now)
