"""The standard's rules: who may register, assess and evaluate which school, what a valid answer is, and each
school's status. Functions of (uow, inputs, now); a refusal raises `StandardRefusal` and changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.accounts.ports import SchoolRec
from bot.content.models import AnttStandard
from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.core.roles import Role
from bot.standard.ports import MET, NOT_MET, Answer, StandardRec, StandardUnitOfWork

NOTE_MAX = 500
LINKS_MAX = 5
LINK_MAX = 300
_LINK_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)

# A school's status in a school year, from the least done.
NONE, REGISTERED, SELF_ASSESSED, EVALUATED_MET, EVALUATED_NOT_MET = (
    "none",
    "registered",
    "self_assessed",
    "met",
    "not_met",
)
STATUS_NAMES: dict[str, str] = {
    NONE: N_("chưa đăng ký"),
    REGISTERED: N_("đã đăng ký"),
    SELF_ASSESSED: N_("đã tự đánh giá"),
    EVALUATED_MET: N_("đã đánh giá: đạt"),
    EVALUATED_NOT_MET: N_("đã đánh giá: chưa đạt"),
}
RESULT_NAMES: dict[str, str] = {MET: N_("Đạt"), NOT_MET: N_("Chưa đạt")}


class StandardRefusal(Refusal):
    """A rule of the standard said no."""


FOR_SCHOOL_ADMINS = N_("Việc này dành cho quản trị trường (người phụ trách ANTT của trường).")
FOR_ORGANIZERS = N_("Việc này dành cho ban tổ chức của đặc khu.")
FOR_ADMINS_AND_ORGANIZERS = N_("Tiêu chuẩn “An toàn về ANTT” chỉ dành cho quản trị trường và ban tổ chức.")
NO_SCHOOL = N_("Tài khoản của thầy/cô chưa gắn với trường nào.")
UNKNOWN_SCHOOL = N_("Không tìm thấy trường này.")
NOT_REGISTERED = N_("Trường chưa đăng ký tiêu chuẩn năm học {year}.")
ALREADY_REGISTERED = N_("Trường đã đăng ký tiêu chuẩn năm học {year} rồi.")
ALREADY_EVALUATED = N_("Trường đã được đánh giá năm học {year}, nên bản tự đánh giá không sửa được nữa.")
UNKNOWN_CRITERION = N_("Không có tiêu chí này trong danh sách hiện hành.")
NOTE_TOO_LONG = N_("Ghi chú dài quá {n} ký tự. Thầy/cô rút gọn giúp nhé.")
TOO_MANY_LINKS = N_("Mỗi tiêu chí ghi tối đa {n} đường dẫn minh chứng.")
BAD_LINK = N_("Đường dẫn minh chứng phải bắt đầu bằng http:// hoặc https:// và dài tối đa {n} ký tự.")
MISSING_ANSWERS = N_("Còn {n} tiêu chí chưa trả lời (đạt hay chưa đạt), nên chưa nộp được bản tự đánh giá.")
NOT_SELF_ASSESSED = N_("Trường chưa nộp bản tự đánh giá, nên chưa ghi kết quả đánh giá được.")
BAD_RESULT = N_("Kết quả đánh giá chỉ là “Đạt” hoặc “Chưa đạt”.")
BAD_DATE = N_("Ngày đánh giá chưa đúng. Thầy/cô gõ theo dạng ngày/tháng/năm, ví dụ 20/5/2027.")
FUTURE_DATE = N_("Ngày đánh giá không được sau hôm nay.")
NO_CRITERIA = N_("Danh sách tiêu chí chưa đọc được. Thầy/cô báo người quản lý nội dung kiểm tra tệp tiêu chí nhé.")


def status_of(rec: StandardRec | None) -> str:
    if rec is None:
        return NONE
    if rec.result == MET:
        return EVALUATED_MET
    if rec.result == NOT_MET:
        return EVALUATED_NOT_MET
    return SELF_ASSESSED if rec.self_assessed_at is not None else REGISTERED


def criteria_of(standard: AnttStandard | None) -> AnttStandard:
    if standard is None:
        raise StandardRefusal(NO_CRITERIA)
    return standard


# --- scopes ----------------------------------------------------------------------------------------------


def _own_school(actor: UserRec) -> int:
    if actor.role != Role.SCHOOL_ADMIN:
        raise StandardRefusal(FOR_SCHOOL_ADMINS)
    if actor.school_id is None:
        raise StandardRefusal(NO_SCHOOL)
    return actor.school_id


def require_organizer(actor: UserRec) -> None:
    if actor.role != Role.ORGANIZER:
        raise StandardRefusal(FOR_ORGANIZERS)


async def visible_school(uow: StandardUnitOfWork, actor: UserRec, school_id: int | None = None) -> SchoolRec:
    """The school whose standard `actor` may see: a school admin's own (whatever was asked), any for an
    organizer; teachers, students and parents none."""
    if actor.role == Role.ORGANIZER:
        school = await uow.schools.get(school_id) if school_id is not None else None
    elif actor.role == Role.SCHOOL_ADMIN:
        own = _own_school(actor)
        if school_id is not None and school_id != own:
            raise StandardRefusal(UNKNOWN_SCHOOL)
        school = await uow.schools.get(own)
    else:
        raise StandardRefusal(FOR_ADMINS_AND_ORGANIZERS)
    if school is None:
        raise StandardRefusal(UNKNOWN_SCHOOL)
    return school


# --- the school admin ------------------------------------------------------------------------------------


async def register(uow: StandardUnitOfWork, actor: UserRec, year: str, now: dt.datetime) -> StandardRec:
    school_id = _own_school(actor)
    if await uow.standard.get(school_id, year) is not None:
        raise StandardRefusal(ALREADY_REGISTERED, year=year)
    rec = await uow.standard.register(school_id, year, actor.id, now)
    await uow.audit.add(actor.id, "standard.register", f"school:{school_id}", {"year": year}, now)
    return rec


async def _editable(uow: StandardUnitOfWork, actor: UserRec, year: str) -> StandardRec:
    rec = await uow.standard.get(_own_school(actor), year)
    if rec is None:
        raise StandardRefusal(NOT_REGISTERED, year=year)
    if rec.result is not None:
        raise StandardRefusal(ALREADY_EVALUATED, year=year)
    return rec


def parse_answer(met: bool, text: str) -> Answer:
    """An answer from what was typed: the links (http, https) in it, and the rest as the note."""
    links = _LINK_RE.findall(text or "")
    note = " ".join(_LINK_RE.sub(" ", text or "").split())
    return check_answer(Answer(met, note, links))


def check_answer(answer: Answer) -> Answer:
    note = " ".join(answer.note.split())
    if len(note) > NOTE_MAX:
        raise StandardRefusal(NOTE_TOO_LONG, n=NOTE_MAX)
    links = [link.strip() for link in answer.links if link.strip()]
    if len(links) > LINKS_MAX:
        raise StandardRefusal(TOO_MANY_LINKS, n=LINKS_MAX)
    for link in links:
        if len(link) > LINK_MAX or not _LINK_RE.fullmatch(link):
            raise StandardRefusal(BAD_LINK, n=LINK_MAX)
    return Answer(answer.met, note, links)


async def save_answer(
    uow: StandardUnitOfWork,
    actor: UserRec,
    standard: AnttStandard,
    year: str,
    criterion_id: str,
    answer: Answer,
    now: dt.datetime,
) -> StandardRec:
    """One criterion's answer, kept at once (a self-assessment in the chat is answered step by step)."""
    rec = await _editable(uow, actor, year)
    if standard.criterion(criterion_id) is None:
        raise StandardRefusal(UNKNOWN_CRITERION)
    answers = {**rec.answers, criterion_id: check_answer(answer)}
    await uow.standard.save_answers(rec.id, answers)
    rec.answers = answers
    return rec


def missing(standard: AnttStandard, rec: StandardRec) -> list[str]:
    """The ids of the current criteria the school has not answered."""
    return [c.id for c in standard.criteria if c.id not in rec.answers]


async def submit(
    uow: StandardUnitOfWork,
    actor: UserRec,
    standard: AnttStandard,
    year: str,
    now: dt.datetime,
    answers: dict[str, Answer] | None = None,
) -> StandardRec:
    """Hand in the self-assessment (with `answers`, the whole form of the web console, all or nothing). Every
    current criterion must be answered; it may be handed in again until the school is evaluated."""
    rec = await _editable(uow, actor, year)
    if answers is not None:
        unknown = [cid for cid in answers if standard.criterion(cid) is None]
        if unknown:
            raise StandardRefusal(UNKNOWN_CRITERION)
        checked = {cid: check_answer(a) for cid, a in answers.items()}
        rec.answers = {**rec.answers, **checked}
    left = missing(standard, rec)
    if left:
        raise StandardRefusal(MISSING_ANSWERS, n=len(left))
    # Answers to criteria the district has since removed are not part of what is handed in.
    current = {c.id: rec.answers[c.id] for c in standard.criteria}
    await uow.standard.save_answers(rec.id, current)
    await uow.standard.mark_self_assessed(rec.id, now)
    met = sum(a.met for a in current.values())
    detail = {"year": year, "criteria": len(current), "met": met}
    await uow.audit.add(actor.id, "standard.self_assess", f"school:{rec.school_id}", detail, now)
    rec.answers, rec.self_assessed_at = current, now
    return rec


# --- the organizer ---------------------------------------------------------------------------------------


def parse_date(text: str) -> dt.date:
    found = re.fullmatch(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*", text or "")
    if not found:
        raise StandardRefusal(BAD_DATE)
    day, month, year = (int(g) for g in found.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise StandardRefusal(BAD_DATE) from exc


async def evaluate(
    uow: StandardUnitOfWork,
    actor: UserRec,
    school_id: int,
    year: str,
    result: str,
    on: dt.date,
    note: str,
    today: dt.date,
    now: dt.datetime,
) -> StandardRec:
    """Record the evaluation made with the police (it may be recorded again, to correct it)."""
    require_organizer(actor)
    if result not in RESULT_NAMES:
        raise StandardRefusal(BAD_RESULT)
    if on > today:
        raise StandardRefusal(FUTURE_DATE)
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise StandardRefusal(NOTE_TOO_LONG, n=NOTE_MAX)
    school = await visible_school(uow, actor, school_id)
    rec = await uow.standard.get(school.id, year)
    if rec is None:
        raise StandardRefusal(NOT_REGISTERED, year=year)
    if rec.self_assessed_at is None:
        raise StandardRefusal(NOT_SELF_ASSESSED)
    await uow.standard.record_evaluation(rec.id, result, on, note, actor.id, now)
    detail = {"year": year, "result": result, "on": on.isoformat()}
    await uow.audit.add(actor.id, "standard.evaluate", f"school:{school.id}", detail, now)
    rec.result, rec.evaluated_on, rec.evaluation_note = result, on, note
    return rec


@dataclass(slots=True)
class SchoolStatus:
    school: SchoolRec
    rec: StandardRec | None

    @property
    def status(self) -> str:
        return status_of(self.rec)


@dataclass(slots=True)
class DistrictView:
    """Every school's status in a school year, and the plan's target: 100 % registered and meeting it."""

    year: str
    schools: list[SchoolStatus]

    def _with(self, *statuses: str) -> list[SchoolStatus]:
        return [s for s in self.schools if s.status in statuses]

    @property
    def registered(self) -> int:
        return len(self.schools) - len(self.unregistered)

    @property
    def self_assessed(self) -> int:
        return len(self._with(SELF_ASSESSED, EVALUATED_MET, EVALUATED_NOT_MET))

    @property
    def met(self) -> int:
        return len(self._with(EVALUATED_MET))

    @property
    def unregistered(self) -> list[SchoolStatus]:
        return self._with(NONE)

    @property
    def not_met(self) -> list[SchoolStatus]:
        """Registered schools that do not (yet) meet the standard."""
        return self._with(REGISTERED, SELF_ASSESSED, EVALUATED_NOT_MET)

    def percent(self, n: int) -> int:
        return round(100 * n / len(self.schools)) if self.schools else 0


async def district_view(uow: StandardUnitOfWork, actor: UserRec, year: str) -> DistrictView:
    require_organizer(actor)
    found = {rec.school_id: rec for rec in await uow.standard.for_year(year)}
    return DistrictView(year, [SchoolStatus(s, found.get(s.id)) for s in await uow.schools.list()])


async def school_status(
    uow: StandardUnitOfWork, actor: UserRec, year: str, school_id: int | None = None
) -> SchoolStatus:
    school = await visible_school(uow, actor, school_id)
    return SchoolStatus(school, await uow.standard.get(school.id, year))
