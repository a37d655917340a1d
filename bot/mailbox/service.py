"""The safe mailbox's rules: who is a counsellor of which school, who may read a letter (its school's
counsellors only; its writer), what a letter and a reply must be, and the notices they send. Every reading of a
letter writes an audit row with ids only; nothing here logs or audits what a child wrote."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.core import activity
from bot.core.errors import Refusal
from bot.core.i18n import N_, I18n
from bot.core.ports import UserRec
from bot.core.roles import SCHOOL_STAFF, Role
from bot.mailbox.ports import CLOSED, HELPING, NEW, STATUSES, CaseRec, MailboxUnitOfWork, MessageRec, StaffRec

KINDS: tuple[str, ...] = tuple(activity.WORRY_KINDS)
MIN_BODY = 2  # letters or digits: "??" or an emoji alone is not a letter yet
MAX_BODY = 1000

STATUS_NAMES = {NEW: N_("mới"), HELPING: N_("đang hỗ trợ"), CLOSED: N_("đã xong")}

NOT_FOUND = N_("Không tìm thấy thư này, hoặc thầy/cô không phải người tư vấn của trường có thư này.")
NOT_YOURS = N_("Không tìm thấy thư này trong các thư em đã gửi.")
FOR_COUNSELLORS = N_("Chỉ thầy/cô tư vấn được nhà trường chọn mới đọc được thư trong hộp thư an toàn.")
FOR_ADMINS = N_("Chỉ quản trị trường mới chọn được thầy/cô tư vấn.")
NOT_STAFF = N_("Người này không phải giáo viên hay quản trị của trường mình.")
BAD_KIND = N_("Loại chuyện này không có trong danh sách. Em chọn lại nhé.")
BAD_STATUS = N_("Trạng thái này không có. Thầy/cô chọn: mới, đang hỗ trợ hoặc đã xong.")
CLOSED_CASE = N_("Thư này đã được đánh dấu xong. Thầy/cô mở lại (đánh dấu “đang hỗ trợ”) rồi trả lời nhé.")

# Notices: short, no word of what was written (they wait in the notices table and show on a lock screen).
REPLY_NOTICE = N_("💬 Thầy/cô tư vấn của trường đã trả lời thư em gửi hộp thư an toàn. Em gõ /hopthu để đọc nhé.")
NEW_NOTICE = N_("📮 Hộp thư an toàn có một thư mới ({kind}). Thầy/cô gõ /hopthu để đọc.")
URGENT_NOTICE = N_("🚨 Hộp thư an toàn: có thư KHẨN ({kind}) – học sinh cần giúp ngay. Thầy/cô gõ /hopthu để đọc ngay.")
MORE_NOTICE = N_("📮 Học sinh viết thêm vào thư số {n} ({kind}) trong hộp thư an toàn. Thầy/cô gõ /hopthu để đọc.")
NO_COUNSELLOR_NOTICE = N_(
    "📮 Một học sinh của trường muốn gửi thư cho thầy/cô tư vấn, nhưng trường chưa chọn ai. Thầy/cô gõ /tuvan để "
    "chọn thầy/cô tư vấn cho hộp thư an toàn nhé."
)
NAMED_NOTICE = N_(
    "🤝 Quản trị trường đã chọn thầy/cô làm thầy/cô tư vấn của hộp thư an toàn. Thầy/cô gõ /hopthu để đọc và trả "
    "lời thư học sinh gửi."
)


class MailboxRefusal(Refusal):
    pass


@dataclass(frozen=True)
class Thread:
    case: CaseRec
    messages: list[MessageRec]
    writer: str  # what the counsellor may know of the writer: "" when anonymous


async def school_of_student(uow: MailboxUnitOfWork, user: UserRec) -> int | None:
    """The school of the student's latest class."""
    classes = await uow.classes.of_student(user.id)
    return classes[-1].school_id if classes else user.school_id


async def counsellors_of(uow: MailboxUnitOfWork, school_id: int) -> list[StaffRec]:
    return await uow.mailbox.counsellors(school_id)


async def is_counsellor(uow: MailboxUnitOfWork, user: UserRec) -> bool:
    if user.role not in SCHOOL_STAFF or user.school_id is None:
        return False
    return any(c.user_id == user.id for c in await uow.mailbox.counsellors(user.school_id))


def require_admin(user: UserRec) -> int:
    if user.role != Role.SCHOOL_ADMIN or user.school_id is None:
        raise MailboxRefusal(FOR_ADMINS)
    return user.school_id


async def name_counsellor(uow: MailboxUnitOfWork, admin: UserRec, user_id: int, now: dt.datetime) -> StaffRec:
    """A school admin names one of the school's staff counsellor (themselves too)."""
    school_id = require_admin(admin)
    staff = {s.user_id: s for s in await uow.mailbox.school_staff(school_id)}
    if user_id not in staff:
        raise MailboxRefusal(NOT_STAFF)
    if await uow.mailbox.name_counsellor(school_id, user_id, admin.id, now):
        await uow.audit.add(admin.id, "mailbox.counsellor_named", f"school:{school_id}", {"user": user_id}, now)
    return staff[user_id]


async def remove_counsellor(uow: MailboxUnitOfWork, admin: UserRec, user_id: int, now: dt.datetime) -> bool:
    school_id = require_admin(admin)
    removed = await uow.mailbox.remove_counsellor(school_id, user_id)
    if removed:
        await uow.audit.add(admin.id, "mailbox.counsellor_removed", f"school:{school_id}", {"user": user_id}, now)
    return removed


def clean_body(text: str) -> str | None:
    """The letter as typed (spaces at the ends trimmed), or None when it says nothing yet or is too long."""
    body = text.strip()
    if sum(ch.isalnum() for ch in body) < MIN_BODY or len(body) > MAX_BODY:
        return None
    return body


async def notify(
    uow: MailboxUnitOfWork, i18n: I18n, user_ids: list[int], message: str, now: dt.datetime, **fields: str
) -> None:
    """A notice to each user in their language; `fields` are message ids too (a kind's name) or plain values."""
    for user_id in dict.fromkeys(user_ids):
        user = await uow.users.get(user_id)
        if user is None:
            continue
        words = {k: i18n.gettext(user.locale, v) for k, v in fields.items()}
        await uow.notices.add(user_id, i18n.gettext(user.locale, message).format(**words), now)


async def school_admins(uow: MailboxUnitOfWork, school_id: int) -> list[int]:
    return [s.user_id for s in await uow.mailbox.school_staff(school_id) if s.role == Role.SCHOOL_ADMIN]


async def write(
    uow: MailboxUnitOfWork,
    i18n: I18n,
    writer: UserRec,
    kind: str,
    anonymous: bool,
    urgent: bool,
    text: str,
    now: dt.datetime,
) -> CaseRec | None:
    """Store the letter for the school's counsellors and tell them (every one at once, loudly when urgent);
    None when the school has no counsellor yet (its admins are told to name one, nothing is stored). Only an
    anonymous count (school, kind) is kept for the reports."""
    if kind not in KINDS:
        raise MailboxRefusal(BAD_KIND)
    body = clean_body(text)
    if body is None:
        raise MailboxRefusal(N_("Em viết vài chữ kể chuyện của em nhé (dưới {n} ký tự)."), n=MAX_BODY)
    school_id = await school_of_student(uow, writer)
    if school_id is None:
        return None
    counsellors = await uow.mailbox.counsellors(school_id)
    if not counsellors:
        await notify(uow, i18n, await school_admins(uow, school_id), NO_COUNSELLOR_NOTICE, now)
        return None
    case = await uow.mailbox.add_case(school_id, writer.id, kind, anonymous, urgent, body, now)
    await uow.activity.add_anonymous(activity.MAILBOX_WRITTEN, now, writer.id, school_id, ref=kind)
    notice = URGENT_NOTICE if urgent else NEW_NOTICE
    await notify(uow, i18n, [c.user_id for c in counsellors], notice, now, kind=activity.WORRY_KINDS[kind])
    return case


async def counsellor_case(uow: MailboxUnitOfWork, user: UserRec, case_id: int) -> CaseRec:
    """The letter if `user` is a counsellor of its school; the same refusal for any other letter or none."""
    case = await uow.mailbox.get_case(case_id)
    if case is None or case.school_id != user.school_id or not await is_counsellor(uow, user):
        raise MailboxRefusal(NOT_FOUND)
    return case


async def cases_for_counsellor(
    uow: MailboxUnitOfWork, user: UserRec, now: dt.datetime, where: str = "chat"
) -> list[CaseRec]:
    if not await is_counsellor(uow, user) or user.school_id is None:
        raise MailboxRefusal(FOR_COUNSELLORS)
    cases = await uow.mailbox.cases_of_school(user.school_id)
    await uow.audit.add(user.id, "mailbox.list", f"school:{user.school_id}", {"rows": len(cases), "via": where}, now)
    return cases


async def read_for_counsellor(
    uow: MailboxUnitOfWork, user: UserRec, case_id: int, now: dt.datetime, where: str = "chat"
) -> Thread:
    """The thread as a counsellor sees it (a named writer's name and class; nothing of an anonymous one); the
    reading is audited."""
    case = await counsellor_case(uow, user, case_id)
    messages = await uow.mailbox.messages(case.id)
    writer = ""
    if not case.anonymous:
        person = await uow.users.get(case.writer_id)
        classes = await uow.classes.of_student(case.writer_id)
        name = (person.display_name if person else None) or "?"
        writer = f"{name} – {classes[-1].name}" if classes else name
    await uow.audit.add(user.id, "mailbox.view", f"mailbox:{case.id}", {"via": where}, now)
    return Thread(case, messages, writer)


async def reply(
    uow: MailboxUnitOfWork, i18n: I18n, user: UserRec, case_id: int, text: str, now: dt.datetime, where: str = "chat"
) -> CaseRec:
    """A counsellor's reply: added to the thread, the writer told (without its words); a new letter becomes
    "đang hỗ trợ"."""
    case = await counsellor_case(uow, user, case_id)
    if case.status == CLOSED:
        raise MailboxRefusal(CLOSED_CASE)
    body = clean_body(text)
    if body is None:
        raise MailboxRefusal(N_("Thầy/cô gõ lời trả lời (ít nhất vài chữ, dưới {n} ký tự) nhé."), n=MAX_BODY)
    await uow.mailbox.add_message(case.id, False, user.id, body, now)
    if case.status == NEW:
        await uow.mailbox.set_status(case.id, HELPING, now)
    await uow.audit.add(user.id, "mailbox.reply", f"mailbox:{case.id}", {"via": where}, now)
    await notify(uow, i18n, [case.writer_id], REPLY_NOTICE, now)
    return case


async def set_status(
    uow: MailboxUnitOfWork, user: UserRec, case_id: int, status: str, now: dt.datetime, where: str = "chat"
) -> CaseRec:
    case = await counsellor_case(uow, user, case_id)
    if status not in STATUSES:
        raise MailboxRefusal(BAD_STATUS)
    if status != case.status:
        await uow.mailbox.set_status(case.id, status, now)
        await uow.audit.add(user.id, "mailbox.status", f"mailbox:{case.id}", {"status": status, "via": where}, now)
    return case


async def writer_case(uow: MailboxUnitOfWork, user: UserRec, case_id: int) -> CaseRec:
    case = await uow.mailbox.get_case(case_id)
    if case is None or case.writer_id != user.id:
        raise MailboxRefusal(NOT_YOURS)
    return case


async def write_more(
    uow: MailboxUnitOfWork, i18n: I18n, user: UserRec, case_id: int, text: str, now: dt.datetime
) -> CaseRec:
    """The writer adds to their letter; its counsellors are told. A closed letter opens again."""
    case = await writer_case(uow, user, case_id)
    body = clean_body(text)
    if body is None:
        raise MailboxRefusal(N_("Em viết vài chữ kể chuyện của em nhé (dưới {n} ký tự)."), n=MAX_BODY)
    await uow.mailbox.add_message(case.id, True, None, body, now)
    if case.status == CLOSED:
        await uow.mailbox.set_status(case.id, HELPING, now)
    counsellors = await uow.mailbox.counsellors(case.school_id)
    await notify(
        uow,
        i18n,
        [c.user_id for c in counsellors],
        MORE_NOTICE,
        now,
        n=str(case.id),
        kind=activity.WORRY_KINDS[case.kind],
    )
    return case
