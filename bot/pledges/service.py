"""The rules of pledges: who publishes, edits and sees which pledge; the window (typed in Vietnam time); who may
confirm what and when; the tallies of a viewer's scope; the class list; reminders and notices; the report rows.
Every rule is a function of the unit of work, its inputs and `now`; a refusal raises `Refusal`."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.accounts.menus import command_names
from bot.accounts.ports import ClassRec
from bot.accounts.service import can_manage_class, school_year_on
from bot.content.models import PLEDGE_TEXT_MAX, PLEDGE_TITLE_MAX
from bot.core.clock import VN_TZ, vn_date, vn_datetime, vn_time
from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.core.roles import Role
from bot.pledges.ports import PARENT, STUDENT, ClassTally, PledgeRec, PledgesUnitOfWork, RecipientRec, SignerRow

Gettext = Callable[[str], str]
# (locale, message id) -> the message in that language: `I18n.gettext`, for notices written to other people.
Translate = Callable[[str | None, str], str]
MAX_WINDOW = dt.timedelta(days=366)
TITLE_MIN, TEXT_MIN = 5, 20

NOT_FOUND = N_("Không tìm thấy bản cam kết này.")
FOR_PUBLISHERS = N_("Chỉ ban tổ chức và quản trị trường công bố hoặc sửa được bản cam kết.")
NOT_YOURS = N_("Bản cam kết này do đơn vị khác công bố nên thầy/cô không sửa được.")
NOT_YET = N_("Bản cam kết này chưa mở để ký: mở từ {start}. Mình chưa ghi nhận gì.")
CLOSED = N_("Bản cam kết này đã hết hạn ký ({end}). Mình không ghi nhận gì thêm.")
CHANGED = N_("Nội dung bản cam kết vừa được cập nhật. Mời đọc bản mới rồi xác nhận nhé.")
BAD_TITLE = N_("Tên bản cam kết dài từ {min} đến {max} ký tự. Thầy/cô gõ lại nhé.")
BAD_TEXT = N_("Nội dung bản cam kết dài từ {min} đến {max} ký tự. Thầy/cô gõ lại nhé.")
BAD_WINDOW = N_(
    "Mình chưa đọc được thời gian này. Thầy/cô gõ ngày bắt đầu và ngày kết thúc theo giờ Việt Nam, ví dụ: "
    "“25/08/2026 - 15/09/2026” hoặc “07:00 25/08/2026 - 17:00 15/09/2026”."
)
WINDOW_BACKWARDS = N_("Thời gian kết thúc phải sau thời gian bắt đầu. Thầy/cô gõ lại nhé.")
WINDOW_OVER = N_("Thời gian kết thúc đã qua rồi. Thầy/cô chọn thời gian kết thúc sau bây giờ nhé.")
WINDOW_TOO_LONG = N_("Thời gian ký dài nhất là một năm, bắt đầu trong vòng một năm tới. Thầy/cô gõ lại nhé.")
NOT_OPEN_TO_REMIND = N_("Bản cam kết không đang mở để ký nên không nhắc được.")
REMINDED_TODAY = N_("Hôm nay thầy/cô đã nhắc bản cam kết này cho các lớp rồi. Ngày mai nhắc lại được nhé.")
NOBODY_TO_REMIND = N_("Không còn ai cần nhắc: học sinh và phụ huynh đã liên kết đều đã xác nhận.")
NO_CLASS = N_("Không tìm thấy lớp này trong các lớp thầy/cô quản lý.")

# Notices, written in each recipient's language; {cmd} is the pledge command as they type it.
PUBLISHED_STUDENT = N_("📝 Nhà trường mời em đọc và ký bản cam kết “{title}” ({window}). Em gõ {cmd} để đọc nhé.")
PUBLISHED_PARENT = N_(
    "📝 Nhà trường mời anh/chị cùng con {name} đọc và ký bản cam kết “{title}” ({window}). Anh/chị gõ {cmd} để đọc "
    "và xác nhận."
)
REMIND_STUDENT = N_("🔔 Nhắc em: em chưa xác nhận bản cam kết “{title}” (hạn đến {end}). Em gõ {cmd} để đọc nhé.")
REMIND_PARENT = N_(
    "🔔 Nhắc anh/chị: anh/chị chưa xác nhận bản cam kết “{title}” cùng con {name} (hạn đến {end}). Anh/chị gõ {cmd} "
    "để đọc nhé."
)
EDITED_STUDENT = N_(
    "✏️ Bản cam kết “{title}” vừa được sửa (phiên bản {version}). Em gõ {cmd} để đọc bản mới và xác nhận lại nhé."
)
EDITED_PARENT = N_(
    "✏️ Bản cam kết “{title}” vừa được sửa (phiên bản {version}). Anh/chị gõ {cmd} để đọc bản mới và xác nhận lại "
    "cùng con {name}."
)


def _same(text: str) -> str:
    return text


# --- the window, in Vietnam time ---

_SPLIT = re.compile(r"\s*(?:–|—|-|\bđến\b|\bden\b|\btới\b|\btoi\b)\s*", re.IGNORECASE)
_TIME = r"(?P<{h}>\d{{1,2}})(?:[:h](?P<{m}>\d{{2}})?|h)"
_WHEN = re.compile(
    rf"^(?:{_TIME.format(h='h1', m='m1')}\s+)?(?P<d>\d{{1,2}})[/.](?P<mo>\d{{1,2}})(?:[/.](?P<y>\d{{4}}))?"
    rf"(?:\s+{_TIME.format(h='h2', m='m2')})?$",
    re.IGNORECASE,
)


def _point(text: str, default_year: int) -> tuple[dt.date, dt.time | None, bool]:
    """(day, time or None, year given) of "25/08/2026", "7:30 25/8", "25/08/2026 17h"; Refusal otherwise."""
    found = _WHEN.match(" ".join(text.split()))
    if found is None or (found["h1"] and found["h2"]):
        raise Refusal(BAD_WINDOW)
    g = found.groupdict()
    hour, minute = (g["h1"], g["m1"]) if g["h1"] else (g["h2"], g["m2"])
    try:
        day = dt.date(int(g["y"] or default_year), int(g["mo"]), int(g["d"]))
        at = dt.time(int(hour), int(minute or 0)) if hour else None
    except ValueError as exc:
        raise Refusal(BAD_WINDOW) from exc
    return day, at, g["y"] is not None


def parse_window(text: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The window typed as "start - end" in Vietnam time: a day alone opens at 00:00 and closes at the end of that
    day; without a year, this year (an end before the start is next year's). Returns (opens_at, closes_at) with
    closes_at the first instant after the window."""
    parts = [p for p in _SPLIT.split(unicodedata.normalize("NFC", text).strip()) if p]
    if len(parts) != 2 or len(text) > 80:
        raise Refusal(BAD_WINDOW)
    today = vn_date(now)
    first, first_at, _year = _point(parts[0], today.year)
    last, last_at, last_year = _point(parts[1], first.year)
    opens = vn_datetime(first, first_at or dt.time())
    closes = vn_datetime(last, last_at) if last_at else vn_datetime(last + dt.timedelta(days=1), dt.time())
    if closes <= opens and not last_year:
        last = last.replace(year=last.year + 1)
        closes = vn_datetime(last, last_at) if last_at else vn_datetime(last + dt.timedelta(days=1), dt.time())
    return check_window(opens, closes, now)


def check_window(opens: dt.datetime, closes: dt.datetime, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if closes <= opens:
        raise Refusal(WINDOW_BACKWARDS)
    if closes <= now:
        raise Refusal(WINDOW_OVER)
    if closes - opens > MAX_WINDOW or opens - now > MAX_WINDOW:
        raise Refusal(WINDOW_TOO_LONG)
    return opens, closes


def window_for(days: int, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """From now to the end of the day `days` days from today (Vietnam time): the quick choices."""
    return now, vn_datetime(vn_date(now) + dt.timedelta(days=days + 1), dt.time())


def until_text(closes_at: dt.datetime, _: Gettext = _same) -> str:
    local = closes_at.astimezone(VN_TZ)
    if local.time() == dt.time():
        return _("hết ngày {date}").format(date=(local - dt.timedelta(days=1)).strftime("%d/%m/%Y"))
    return vn_time(closes_at)


def window_text(pledge: PledgeRec | tuple[dt.datetime, dt.datetime], _: Gettext = _same) -> str:
    opens, closes = (pledge.opens_at, pledge.closes_at) if isinstance(pledge, PledgeRec) else pledge
    return _("từ {start} đến {end}").format(start=vn_time(opens), end=until_text(closes, _))


def state(pledge: PledgeRec, now: dt.datetime) -> str:
    if now < pledge.opens_at:
        return "upcoming"
    return "open" if now < pledge.closes_at else "closed"


# --- who publishes, manages and sees which pledge ---


def may_publish(user: UserRec) -> bool:
    return user.role == Role.ORGANIZER or (user.role == Role.SCHOOL_ADMIN and user.school_id is not None)


def manages(user: UserRec, pledge: PledgeRec) -> bool:
    """The district's pledges are the organizers'; a school's are its admins'."""
    if pledge.school_id is None:
        return user.role == Role.ORGANIZER
    return user.role == Role.SCHOOL_ADMIN and user.school_id == pledge.school_id


def sees(user: UserRec, pledge: PledgeRec) -> bool:
    if user.role == Role.ORGANIZER:
        return True
    if user.role in (Role.TEACHER, Role.SCHOOL_ADMIN) and user.school_id is not None:
        return pledge.school_id in (None, user.school_id)
    return False


async def listed(uow: PledgesUnitOfWork, user: UserRec) -> list[PledgeRec]:
    if user.role == Role.ORGANIZER:
        return await uow.pledges.listed(None)
    if user.role in (Role.TEACHER, Role.SCHOOL_ADMIN) and user.school_id is not None:
        return await uow.pledges.listed(user.school_id)
    return []


async def visible_pledge(uow: PledgesUnitOfWork, user: UserRec, pledge_id: int) -> PledgeRec:
    pledge = await uow.pledges.get(pledge_id)
    if pledge is None or not sees(user, pledge):
        raise Refusal(NOT_FOUND)
    return pledge


async def managed_pledge(uow: PledgesUnitOfWork, user: UserRec, pledge_id: int) -> PledgeRec:
    pledge = await visible_pledge(uow, user, pledge_id)
    if not manages(user, pledge):
        raise Refusal(NOT_YOURS)
    return pledge


async def scope_classes(uow: PledgesUnitOfWork, user: UserRec, pledge: PledgeRec) -> list[ClassRec]:
    """The pledge's classes the user sees figures for: organizers every one, school admins their school's,
    teachers their own."""
    classes = await uow.pledges.classes(pledge)
    if user.role == Role.ORGANIZER:
        return classes
    if user.role == Role.SCHOOL_ADMIN:
        return [c for c in classes if c.school_id == user.school_id]
    if user.role == Role.TEACHER:
        return [c for c in classes if c.teacher_id == user.id]
    return []


# --- publishing and editing ---


def clean_title(text: str) -> str | None:
    title = " ".join(unicodedata.normalize("NFC", text).split())
    return title if TITLE_MIN <= len(title) <= PLEDGE_TITLE_MAX else None


def clean_text(text: str) -> str | None:
    """The text as typed, line by line (spaces tidied, blank lines kept to one); None when too short or long."""
    lines = [" ".join(line.split()) for line in unicodedata.normalize("NFC", text).replace("\r", "").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    body = "\n".join(out).strip()
    return body if TEXT_MIN <= len(body) <= PLEDGE_TEXT_MAX else None


def require_title(text: str) -> str:
    title = clean_title(text)
    if title is None:
        raise Refusal(BAD_TITLE, min=TITLE_MIN, max=PLEDGE_TITLE_MAX)
    return title


def require_text(text: str) -> str:
    body = clean_text(text)
    if body is None:
        raise Refusal(BAD_TEXT, min=TEXT_MIN, max=PLEDGE_TEXT_MAX)
    return body


def draft(
    user: UserRec,
    title: str,
    text: str,
    template: str | None,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    now: dt.datetime,
) -> PledgeRec:
    """The pledge as it would be published (id 0: not stored); refuses what could not be."""
    if not may_publish(user):
        raise Refusal(FOR_PUBLISHERS)
    opens_at, closes_at = check_window(opens_at, closes_at, now)
    school_id = None if user.role == Role.ORGANIZER else user.school_id
    year = school_year_on(vn_date(opens_at))
    return PledgeRec(
        0, school_id, year, require_title(title), template, 1, require_text(text), opens_at, closes_at, user.id, now
    )


@dataclass
class Reach:
    """Whom a pledge's notices reach: students (their agreement in force) and parents linked to them."""

    students: int = 0
    parents: int = 0
    classes: int = 0


async def reach(uow: PledgesUnitOfWork, pledge: PledgeRec) -> Reach:
    classes = await uow.pledges.classes(pledge)
    people = await uow.pledges.recipients(pledge, [c.id for c in classes])
    return Reach(
        len({r.user_id for r in people if r.signer == STUDENT}),
        len({r.user_id for r in people if r.signer == PARENT}),
        len(classes),
    )


async def publish(uow: PledgesUnitOfWork, plan: PledgeRec, now: dt.datetime, translate: Translate) -> Reach:
    """Store the pledge (version 1) and write a notice to each student and linked parent it is for."""
    pledge = await uow.pledges.create(
        plan.school_id,
        plan.school_year,
        plan.title,
        plan.template,
        plan.text,
        plan.opens_at,
        plan.closes_at,
        plan.created_by,
        now,
    )
    plan.id = pledge.id
    classes = await uow.pledges.classes(pledge)
    people = await uow.pledges.recipients(pledge, [c.id for c in classes])
    await _notify(uow, pledge, people, PUBLISHED_STUDENT, PUBLISHED_PARENT, now, translate)
    await uow.audit.add(
        plan.created_by,
        "pledge.publish",
        f"pledge:{pledge.id}",
        {"school": pledge.school_id, "template": pledge.template, "version": 1, "classes": len(classes)},
        now,
    )
    return Reach(
        len({r.user_id for r in people if r.signer == STUDENT}),
        len({r.user_id for r in people if r.signer == PARENT}),
        len(classes),
    )


async def edit_text(
    uow: PledgesUnitOfWork, user: UserRec, pledge_id: int, text: str, now: dt.datetime, translate: Translate
) -> tuple[PledgeRec, int]:
    """Publish a new version of the text. Confirmations keep the version they confirmed; those who confirmed an
    earlier one are told, while the window is open. Returns the pledge and how many were told."""
    pledge = await managed_pledge(uow, user, pledge_id)
    body = require_text(text)
    if body == pledge.text:
        raise Refusal(N_("Nội dung mới giống hệt nội dung đang dùng nên mình không tạo phiên bản mới."))
    pledge.version = await uow.pledges.add_version(pledge.id, body, user.id, now)
    pledge.text = body
    told = 0
    if state(pledge, now) != "closed":
        classes = await uow.pledges.classes(pledge)
        people = [r for r in await uow.pledges.recipients(pledge, [c.id for c in classes]) if r.earlier]
        told = await _notify(uow, pledge, people, EDITED_STUDENT, EDITED_PARENT, now, translate)
    await uow.audit.add(user.id, "pledge.edit", f"pledge:{pledge.id}", {"version": pledge.version}, now)
    return pledge, told


async def change_window(
    uow: PledgesUnitOfWork,
    user: UserRec,
    pledge_id: int,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    now: dt.datetime,
) -> PledgeRec:
    pledge = await managed_pledge(uow, user, pledge_id)
    opens_at, closes_at = check_window(opens_at, closes_at, now)
    await uow.pledges.set_window(pledge.id, opens_at, closes_at)
    await uow.audit.add(
        user.id,
        "pledge.window",
        f"pledge:{pledge.id}",
        {"opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat()},
        now,
    )
    pledge.opens_at, pledge.closes_at = opens_at, closes_at
    return pledge


async def _notify(
    uow: PledgesUnitOfWork,
    pledge: PledgeRec,
    people: list[RecipientRec],
    to_student: str,
    to_parent: str,
    now: dt.datetime,
    translate: Translate,
) -> int:
    """One notice per person and child (a student in two classes, or a parent of two children, is told once each)."""
    names = await _names(uow, [r.student_id for r in people if r.signer == PARENT])
    done: set[tuple[int, int]] = set()
    for r in people:
        if (r.user_id, r.student_id) in done:
            continue
        done.add((r.user_id, r.student_id))
        _ = _translator(translate, r.locale)
        text = _(to_student if r.signer == STUDENT else to_parent).format(
            title=pledge.title,
            window=window_text(pledge, _),
            end=until_text(pledge.closes_at, _),
            version=pledge.version,
            name=names.get(r.student_id, ""),
            cmd=command_names(r.locale)["pledge"],
        )
        await uow.notices.add(r.user_id, text, now)
    return len(done)


def _translator(translate: Translate, locale: str | None) -> Gettext:
    return lambda message: translate(locale, message)


async def _names(uow: PledgesUnitOfWork, user_ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for uid in dict.fromkeys(user_ids):
        user = await uow.users.get(uid)
        out[uid] = (user.display_name or "") if user else ""
    return out


# --- reading and confirming (students, and parents for their child) ---


async def pledge_classes(uow: PledgesUnitOfWork, student_id: int, pledge: PledgeRec) -> list[ClassRec]:
    """The student's classes that the pledge is for."""
    return [
        c
        for c in await uow.classes.of_student(student_id)
        if not c.archived
        and c.school_year == pledge.school_year
        and (pledge.school_id is None or c.school_id == pledge.school_id)
    ]


async def current_for(uow: PledgesUnitOfWork, student_id: int, now: dt.datetime) -> list[PledgeRec]:
    """The pledges a student may read now (not closed), through each of their classes, newest first."""
    found: dict[int, PledgeRec] = {}
    for klass in await uow.classes.of_student(student_id):
        if klass.archived:
            continue
        for pledge in await uow.pledges.current(klass.school_id, klass.school_year, now):
            found.setdefault(pledge.id, pledge)
    return sorted(found.values(), key=lambda p: (p.opens_at, p.id), reverse=True)


async def readable(uow: PledgesUnitOfWork, pledge_id: int, student_id: int) -> PledgeRec:
    """The pledge, if it is for this student; the same refusal for one that is not and one that does not exist."""
    pledge = await uow.pledges.get(pledge_id)
    if pledge is None or not await pledge_classes(uow, student_id, pledge):
        raise Refusal(NOT_FOUND)
    return pledge


async def child_of(uow: PledgesUnitOfWork, parent: UserRec, child_id: int) -> UserRec:
    for child in await uow.pledges.children(parent.id):
        if child.id == child_id:
            return child
    raise Refusal(NOT_FOUND)


async def confirm(
    uow: PledgesUnitOfWork,
    pledge_id: int,
    version: int,
    student_id: int,
    signer: str,
    by: UserRec,
    now: dt.datetime,
    _: Gettext = _same,
) -> tuple[PledgeRec, bool]:
    """Record a confirmation of `version`: only inside the window and of the current text; confirming again
    keeps the one record. Returns the pledge and whether a record was written."""
    pledge = await readable(uow, pledge_id, student_id)
    if now < pledge.opens_at:
        raise Refusal(NOT_YET, start=vn_time(pledge.opens_at))
    if now >= pledge.closes_at:
        raise Refusal(CLOSED, end=until_text(pledge.closes_at, _))
    if version != pledge.version:
        raise Refusal(CHANGED)
    return pledge, await uow.pledges.confirm(pledge.id, version, student_id, signer, by.id, now)


# --- what staff see: tallies, the class list, reminders ---


@dataclass
class SchoolTally:
    school_id: int
    name: str
    tally: ClassTally


@dataclass
class TallyView:
    pledge: PledgeRec
    classes: list[tuple[ClassRec, ClassTally]]
    schools: list[SchoolTally]
    total: ClassTally = field(default_factory=lambda: ClassTally(0))


async def tally_view(uow: PledgesUnitOfWork, user: UserRec, pledge_id: int) -> TallyView:
    """The figures of the user's scope, by class and by school, with the total (counts only)."""
    pledge = await visible_pledge(uow, user, pledge_id)
    classes = await scope_classes(uow, user, pledge)
    found = await uow.pledges.tallies(pledge, [c.id for c in classes]) if classes else {}
    rows = [(c, found.get(c.id) or ClassTally(c.id)) for c in classes]
    schools: dict[int, SchoolTally] = {}
    total = ClassTally(0)
    for klass, tally in rows:
        if klass.school_id not in schools:
            school = await uow.schools.get(klass.school_id)
            schools[klass.school_id] = SchoolTally(klass.school_id, school.name if school else "", ClassTally(0))
        schools[klass.school_id].tally.add(tally)
        total.add(tally)
    return TallyView(pledge, rows, sorted(schools.values(), key=lambda s: s.name), total)


async def class_list(
    uow: PledgesUnitOfWork, user: UserRec, pledge_id: int, class_id: int, now: dt.datetime, via: str
) -> tuple[PledgeRec, ClassRec, list[SignerRow]]:
    """Who in a class confirmed, with names: only for the class's teacher and its school's admins (organizers see
    counts). It names students, so it is audited as an export."""
    pledge = await visible_pledge(uow, user, pledge_id)
    klass = next((c for c in await uow.pledges.classes(pledge) if c.id == class_id), None)
    if klass is None or not can_manage_class(user, klass):
        raise Refusal(NO_CLASS)
    rows = await uow.pledges.signers(pledge, klass.id)
    await uow.audit.add(
        user.id, "pledge.list", f"class:{klass.id}", {"pledge": pledge.id, "rows": len(rows), "via": via}, now
    )
    return pledge, klass, rows


async def remind(
    uow: PledgesUnitOfWork, user: UserRec, pledge_id: int, now: dt.datetime, translate: Translate
) -> tuple[int, int]:
    """A notice to every student and linked parent of the user's classes who has not confirmed the current text;
    at most once a day per class. Returns (classes reminded, people reminded)."""
    pledge = await visible_pledge(uow, user, pledge_id)
    if state(pledge, now) != "open":
        raise Refusal(NOT_OPEN_TO_REMIND)
    classes = [c.id for c in await scope_classes(uow, user, pledge)]
    today = vn_date(now)
    done = await uow.pledges.reminded(pledge.id, classes, today) if classes else set()
    todo = [c for c in classes if c not in done]
    if classes and not todo:
        raise Refusal(REMINDED_TODAY)
    people = [r for r in await uow.pledges.recipients(pledge, todo) if not r.confirmed] if todo else []
    if not people:
        raise Refusal(NOBODY_TO_REMIND)
    told = await _notify(uow, pledge, people, REMIND_STUDENT, REMIND_PARENT, now, translate)
    per_class: dict[int, set[tuple[int, int]]] = {}
    for r in people:
        per_class.setdefault(r.class_id, set()).add((r.user_id, r.student_id))
    for class_id in todo:
        await uow.pledges.add_reminder(pledge.id, class_id, today, user.id, len(per_class.get(class_id, ())), now)
    await uow.audit.add(user.id, "pledge.remind", f"pledge:{pledge.id}", {"classes": len(todo), "people": told}, now)
    return len(todo), told


# --- the period reports ---


@dataclass(frozen=True)
class PledgeReportRow:
    """One pledge's counts in one class (the report groups them by school or by class)."""

    pledge_id: int
    title: str
    school_id: int
    school: str
    class_name: str
    tally: ClassTally


async def report_rows(
    uow: PledgesUnitOfWork,
    school_id: int | None,
    class_ids: tuple[int, ...] | None,
    start: dt.datetime,
    end: dt.datetime,
) -> list[PledgeReportRow]:
    """The pledges whose window overlaps the period, in the report's scope (everything, one school, some
    classes): per class, counting the confirmations of the current text made before the period's end."""
    out: list[PledgeReportRow] = []
    names: dict[int, str] = {}
    for pledge in await uow.pledges.overlapping(start, end):
        if school_id is not None and pledge.school_id not in (None, school_id):
            continue
        classes = [
            c
            for c in await uow.pledges.classes(pledge)
            if (school_id is None or c.school_id == school_id) and (class_ids is None or c.id in class_ids)
        ]
        if not classes:
            continue
        found = await uow.pledges.tallies(pledge, [c.id for c in classes], before=end)
        for klass in classes:
            if klass.school_id not in names:
                school = await uow.schools.get(klass.school_id)
                names[klass.school_id] = school.name if school else ""
            tally = found.get(klass.id) or ClassTally(klass.id)
            out.append(
                PledgeReportRow(pledge.id, pledge.title, klass.school_id, names[klass.school_id], klass.name, tally)
            )
    return out
