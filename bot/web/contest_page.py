"""The contest page's rules: the same service functions as the chat (`bot.contests.service`): registration bound
to the roster, both consents, the server's deadline, first answer wins, no correctness before submitting, the
prediction. Entry: one-time links (30 minutes, used once, only their hashes stored) and Telegram Mini App logins,
both exchanged for a session signed with a key kept in the database (checked without reading it)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.content.loader import Content
from bot.content.models import Band
from bot.contests import service as svc
from bot.contests.ports import EntryRec
from bot.core.clock import vn_date, vn_time
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.core.roles import Role
from bot.learning.ports import AttemptRec
from bot.web.page_ports import PageUnitOfWork
from bot.web.service import digest

LINK_TTL = dt.timedelta(minutes=30)
SESSION_TTL = dt.timedelta(hours=3)  # longer than any attempt of a round opened with it
PAGE_PATH = "/thi"
ENTRY_PATH = PAGE_PATH + "/vao"
MINI_APP_PATH = PAGE_PATH + "/tg"

# What a Telegram Mini App login gives, once its initData is checked (see bot.channels.telegram.webapp):
# (the Telegram user id, the start parameter), or None when it is forged, incomplete or older than an hour.
InitDataCheck = Callable[[str, dt.datetime], tuple[str, str] | None]

ROUND_CLOSED = N_("Đợt thi này không mở lúc này.")
NOT_FOR_CLASS = N_("Hội thi này không dành cho lớp của em.")
NEED_NAME_CLASS = N_("Em cần có họ tên và lớp trước khi đăng ký dự thi. Em nhờ thầy cô chủ nhiệm giúp nhé.")
NO_OFFICIAL_LEFT = N_("Em đã dùng hết lượt thi chính thức của đợt này. Em vẫn có thể thi thử nhé.")
NO_PRACTICE = N_("Đợt thi này không có thi thử.")
BANK_EMPTY = N_("Ngân hàng câu hỏi chưa sẵn sàng. Em báo thầy cô nhé.")
NOT_REGISTERED = N_("Em cần đăng ký dự thi trước.")
ENDED = N_("Bài thi này đã kết thúc rồi.")
LATE = N_("⏰ Đã hết giờ! Bài của em được nộp lúc hết giờ; câu trả lời này không được tính.")
LATE_PREDICTION = N_("⏰ Đã hết giờ! Bài của em được nộp lúc hết giờ, không có câu dự đoán.")
INVALID = N_("Lựa chọn này không hợp lệ.")
NOT_ALL_ANSWERED = N_("Em còn {n} câu chưa trả lời. Em trả lời hết rồi mới nộp bài nhé.")
BAD_NUMBER = N_("Em gõ một số nguyên từ 0 đến {max} thôi nhé (ví dụ: 25).")
SUBMITTED = N_("📨 Em đã nộp bài.")
OTHER_RUNNING = N_("Em đang làm dở một bài thi khác. Em gõ “thi” trong chat để làm tiếp bài đó trước nhé.")
LIVE_CLASS = N_(
    "🎯 Lớp em thi đợt này cùng nhau trong vòng trực tiếp, bắt đầu lúc {time} ngày {day}. Bài thi chính thức "
    "của em là bài trong vòng trực tiếp, nên bây giờ em chưa làm bài chính thức ở đây được. Em tải lại trang "
    "này rồi bấm “🎯 Vào vòng trực tiếp” nhé."
)
NOT_A_STUDENT = N_("Trang làm bài dành cho học sinh đã vào lớp và được bố mẹ đồng ý cho dự thi.")


class PageRefusal(Exception):
    """A rule stops the action: `message` (a message id) with its fields, shown in the student's language."""

    def __init__(self, message: str, status: int = 409, **fields: Any) -> None:
        super().__init__(message)
        self.message, self.status, self.fields = message, status, fields


# --- entry ---------------------------------------------------------------------------------------------------


async def entry_link(uow: PageUnitOfWork, user_id: int, round_id: int, base_url: str, now: dt.datetime) -> str:
    """A one-time link to the page for this student and this round (nothing personal in it: a random token)."""
    await uow.page.purge(now)  # spent and expired links are forgotten as new ones are made
    token = secrets.token_urlsafe(32)
    await uow.page.add_link(digest(token), user_id, round_id, now + LINK_TTL, now)
    return f"{base_url.rstrip('/')}{ENTRY_PATH}?t={token}"


async def redeem(uow: PageUnitOfWork, token: str, now: dt.datetime) -> tuple[int, int] | None:
    """Spend a link: (user id, round id), or None for a link that is wrong, spent or expired."""
    if not token or len(token) > 128:
        return None
    found = await uow.page.use_link(digest(token), now)
    return (found.user_id, found.round_id) if found is not None else None


async def telegram_login(
    uow: PageUnitOfWork, check: InitDataCheck | None, init_data: str, round_ref: str, now: dt.datetime
) -> tuple[int, int] | None:
    """A Mini App login: (user id, round id) of the Telegram account that opened it, for the round it was opened
    for (the link's `startapp`, else the page's own `r`), or None."""
    if check is None or not init_data or len(init_data) > 4096:
        return None
    checked = check(init_data, now)
    if checked is None:
        return None
    telegram_id, start_param = checked
    ref = start_param or round_ref
    user = await uow.users.by_account("telegram", telegram_id)
    if user is None or not ref.isdigit():
        return None
    return user.id, int(ref)


@dataclass(frozen=True)
class SessionSigner:
    """Page sessions as signed values `user.round.expiry.signature`: a request is checked without the database."""

    secret: bytes

    def _sign(self, body: str) -> str:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()[:43]

    def issue(self, user_id: int, round_id: int, now: dt.datetime) -> str:
        body = f"{user_id}.{round_id}.{int((now + SESSION_TTL).timestamp())}"
        return f"{body}.{self._sign(body)}"

    def verify(self, value: str | None, now: dt.datetime) -> tuple[int, int] | None:
        if not value or len(value) > 120:
            return None
        body, _sep, sig = value.rpartition(".")
        parts = body.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        if not hmac.compare_digest(sig.encode(), self._sign(body).encode()):
            return None
        if int(parts[2]) <= now.timestamp():
            return None
        return int(parts[0]), int(parts[1])


# --- what the page shows -------------------------------------------------------------------------------------


def _remaining_ms(attempt: AttemptRec, now: dt.datetime) -> int:
    assert attempt.deadline_at is not None
    return max(0, int((attempt.deadline_at - now).total_seconds() * 1000))


async def state(
    uow: PageUnitOfWork,
    content: Content,
    translate: Callable[[str], str],
    user: UserRec,
    round_id: int,
    now: dt.datetime,
    shown_attempt: int | None = None,
) -> dict[str, Any]:
    """Everything the page shows, as JSON-safe data; the correctness of answers appears only in a result."""
    _ = translate
    view = await uow.contests.student_round(round_id, user.id)
    if view is None:
        raise PageRefusal(ROUND_CLOSED, 404)
    running = await uow.contests.running(user.id)
    if running:  # overdue attempts are submitted as of their deadline, as the chat does
        closed = await svc.finish_overdue(uow, [a for _e, a in running], now)
        running = [(e, a) for e, a in running if a.id not in closed]
    contest, rnd, reg = view.contest, view.round, view.registration
    d = svc.definition(contest)
    out: dict[str, Any] = {
        "title": contest.title,
        "round": rnd.name,
        "questions": d.questions,
        "minutes": d.time_limit_minutes,
        "closes": vn_time(rnd.closes_at),
    }
    mine = [(e, a) for e, a in running if e.round_id == rnd.id]
    if mine:
        entry, attempt = mine[-1]
        out.update(await _attempt_view(uow, content, translate, attempt, entry, now))
        return out
    if shown_attempt is not None:
        read = await uow.contests.attempt_with_context(shown_attempt)
        if read is not None and read[0].user_id == user.id and read[0].finished_at is not None and read[1]:
            out.update(_result_view(translate, read[0], read[1][0]))
            return out
    if svc.round_state(rnd, now) is not svc.RoundState.OPEN:
        return out | {"step": "message", "message": _(ROUND_CLOSED)}
    problem = await _registration_problem(uow, user, d)
    if reg is None:
        if problem is not None:
            return out | {"step": "message", "message": _(problem)}
        classes = await uow.classes.of_student(user.id)
        klass = classes[-1]
        school = await uow.schools.get(klass.school_id)
        name = await uow.contests.roster_name(klass.id, user.id) or user.display_name
        return out | {
            "step": "register",
            "name": name,
            "klass": klass.name,
            "school": school.name if school else "",
        }
    out |= {"name": reg.display_name, "klass": reg.class_name, "school": reg.school_name}
    if problem is not None and problem != NOT_FOR_CLASS:
        return out | {"step": "message", "message": _(problem)}
    left = d.official_attempts - view.official_used
    return out | {"step": "ready", "official_left": left, "practice": d.practice}


async def _registration_problem(uow: PageUnitOfWork, user: UserRec, d: Any) -> str | None:
    if not user.onboarded or user.role != Role.STUDENT:
        return NOT_A_STUDENT
    problem = svc.consent_problem(await uow.consents.active(user.id))
    if problem is not None:
        return problem
    classes = await uow.classes.of_student(user.id)
    if not user.display_name or not classes:
        return NEED_NAME_CLASS
    if not svc.in_scope(d, classes[-1]):
        return NOT_FOR_CLASS
    return None


async def _attempt_view(
    uow: PageUnitOfWork,
    content: Content,
    translate: Callable[[str], str],
    attempt: AttemptRec,
    entry: EntryRec,
    now: dt.datetime,
) -> dict[str, Any]:
    chosen = {a.seq: a.chosen for a in await uow.attempts.answers(attempt.id)}
    questions = []
    for seq, (qid, order) in enumerate(attempt.questions):
        q = content.question(qid)
        if q is None:
            continue
        picked = chosen.get(seq)
        questions.append(
            {
                "seq": seq,
                "stem": q.stem,
                "options": [q.options[original] for original in order],
                "chosen": order.index(picked) if picked is not None and picked in order else None,
            }
        )
    view: dict[str, Any] = {
        "step": "attempt",
        "attempt": attempt.id,
        "official": attempt.kind == svc.CONTEST,
        "remaining_ms": _remaining_ms(attempt, now),
        "items": questions,
        "prediction": await _prediction_question(uow, translate, attempt.id),
    }
    if entry.official_no is None and attempt.kind == svc.CONTEST:
        view["official"] = False
    return view


async def _prediction_question(uow: PageUnitOfWork, translate: Callable[[str], str], attempt_id: int) -> str:
    found = await uow.contests.attempt_context(attempt_id)
    p = svc.definition(found[2]).prediction if found else None
    if p is not None and p.question:
        return p.question
    _ = translate
    if p is not None and p.target.value == "participant_count":
        return _("Theo em, đợt thi này sẽ có bao nhiêu bạn tham gia thi chính thức?")
    return _("Theo em, đợt thi này sẽ có bao nhiêu bạn trả lời đúng tất cả các câu hỏi?")


def _result_view(translate: Callable[[str], str], attempt: AttemptRec, entry: EntryRec | None) -> dict[str, Any]:
    """The result as the chat shows it after submitting (`bot.contests.flows._show_result`)."""
    _ = translate
    assert attempt.finished_at is not None
    seconds = int((attempt.finished_at - attempt.started_at).total_seconds())
    lines = [
        _("Kết quả: {score}/{total} câu đúng.").format(score=attempt.score or 0, total=attempt.total),
        _("Thời gian làm bài: {d}.").format(d=_("{m} phút {s} giây").format(m=seconds // 60, s=seconds % 60)),
    ]
    if entry is not None and entry.prediction is not None:
        lines.append(_("Dự đoán của em: {p}.").format(p=entry.prediction))
    if attempt.kind == svc.CONTEST:
        lines.append(_("Xếp hạng và giải thưởng sẽ được công bố khi ban tổ chức xác nhận kết quả."))
    else:
        lines.append(_("Đây là bài thi thử, không tính vào kết quả."))
    timed_out = attempt.deadline_at is not None and attempt.finished_at >= attempt.deadline_at
    head = _(LATE_PREDICTION) if timed_out and (entry is None or entry.prediction is None) else _(SUBMITTED)
    return {"step": "result", "attempt": attempt.id, "head": head, "lines": lines}


# --- what the page does --------------------------------------------------------------------------------------


async def register(uow: PageUnitOfWork, user: UserRec, round_id: int, now: dt.datetime) -> None:
    """Registration as in the chat (`on_register`): both consents, a name and a class, the contest's scope; the
    roster's spelling of the name; the first registration stays."""
    view = await uow.contests.student_round(round_id, user.id)
    if view is None or svc.round_state(view.round, now) is not svc.RoundState.OPEN:
        raise PageRefusal(ROUND_CLOSED)
    problem = await _registration_problem(uow, user, svc.definition(view.contest))
    if problem is not None:
        raise PageRefusal(problem)
    klass = (await uow.classes.of_student(user.id))[-1]
    school = await uow.schools.get(klass.school_id)
    name = await uow.contests.roster_name(klass.id, user.id) or user.display_name or ""
    await uow.contests.register(
        view.contest.id,
        user.id,
        name,
        klass.school_id,
        school.name if school else "",
        klass.id,
        klass.name,
        klass.grade,
        now,
    )


async def start(
    uow: PageUnitOfWork, content: Content, user: UserRec, round_id: int, official: bool, now: dt.datetime
) -> None:
    """A new attempt as in the chat (`on_go`); a running one is continued instead."""
    view = await uow.contests.student_round(round_id, user.id)
    if view is None or svc.round_state(view.round, now) is not svc.RoundState.OPEN:
        raise PageRefusal(ROUND_CLOSED)
    if view.running:
        running = await uow.contests.running(user.id)
        closed = await svc.finish_overdue(uow, [a for _e, a in running], now)
        still = [e for e, a in running if a.id not in closed]
        if any(e.round_id == round_id for e in still):
            return  # the page shows the running attempt
        if still:
            raise PageRefusal(OTHER_RUNNING)
    reg = view.registration
    if reg is None:
        raise PageRefusal(NOT_REGISTERED)
    problem = svc.consent_problem(await uow.consents.active(user.id))
    if problem is not None:
        raise PageRefusal(problem)
    d = svc.definition(view.contest)
    if not official and not d.practice:
        raise PageRefusal(NO_PRACTICE)
    try:
        attempt = await svc.start_attempt(
            uow,
            content,
            d,
            view.round,
            reg.id,
            user.id,
            Band.for_grade(reg.grade) if reg.grade else None,
            official,
            now,
            vn_date(now),
            official_used=view.official_used,
            registration_locked=reg.locked_at is not None,
        )
    except svc.LiveClassTurn as turn:  # on this page, its live round is joined with the page's own button
        raise PageRefusal(LIVE_CLASS, **turn.fields) from None
    if attempt is None:
        raise PageRefusal(NO_OFFICIAL_LEFT)
    if attempt.total == 0:
        raise PageRefusal(BANK_EMPTY)


KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass
class Ack:
    """The page's answer to an answer: `saved` (stored, or stored before: the first answer stands), else why not."""

    status: str  # saved|duplicate|late|closed|refused
    message: str = ""
    chosen: int | None = None  # the option stored for the question (after a duplicate: the first one)


async def answer(
    uow: PageUnitOfWork,
    content: Content,
    user_id: int,
    round_id: int,
    attempt_id: int,
    seq: int,
    pos: int,
    key: str,
    now: dt.datetime,
) -> Ack:
    """One answer through the chat's `submit_answer` (in any order: the page shows the whole attempt). An
    answer sent again with the same key gets the same reply ("saved"), and a key is read only then."""
    if not KEY_RE.match(key):
        raise PageRefusal(INVALID, 400)
    res = await svc.submit_answer(uow, content, user_id, attempt_id, seq, pos, now, any_order=True, round_id=round_id)
    if res.outcome is svc.Outcome.RECORDED:
        await uow.page.add_answer_key(attempt_id, key, seq, res.outcome.value, now)
    elif res.outcome is svc.Outcome.DUPLICATE:
        # The same request again (its acknowledgement was lost): the reply it had, "saved".
        before = await uow.page.answer_key(attempt_id, user_id, key)
        if before is not None and before[0] == seq:
            return Ack("saved", chosen=pos)
    return await _ack(uow, attempt_id, seq, res.outcome, pos)


async def _ack(uow: PageUnitOfWork, attempt_id: int, seq: int, outcome: svc.Outcome, pos: int) -> Ack:
    if outcome is svc.Outcome.RECORDED:
        return Ack("saved", chosen=pos)
    if outcome is svc.Outcome.DUPLICATE:
        attempt = await uow.attempts.get(attempt_id)
        stored = next((a.chosen for a in await uow.attempts.answers(attempt_id) if a.seq == seq), None)
        order = attempt.questions[seq][1] if attempt is not None and 0 <= seq < attempt.total else []
        return Ack("duplicate", chosen=order.index(stored) if stored in order else None)
    if outcome is svc.Outcome.LATE:
        return Ack("late", LATE)
    if outcome is svc.Outcome.CLOSED:
        return Ack("closed", ENDED)
    return Ack("refused", INVALID)


async def submit(
    uow: PageUnitOfWork, user_id: int, round_id: int, attempt_id: int, raw_prediction: str, now: dt.datetime
) -> tuple[str, str]:
    """Submit with the prediction, as the chat's `on_prediction`: (status, message id) with status
    submitted|late|closed|foreign (someone else's attempt, or another round's: logged); refuses a bad number
    or unanswered questions."""
    read = await uow.contests.attempt_with_context(attempt_id)
    if read is None or read[0].user_id != user_id or read[0].ref != f"round:{round_id}":
        await uow.security.add(user_id, svc.Outcome.FOREIGN.value, None, {"target": attempt_id, "what": "submit"}, now)
        return "foreign", INVALID  # refused, and the event kept: the caller commits
    attempt, found = read
    if attempt.finished_at is not None:
        return "closed", ENDED
    if await svc.close_overdue(uow, now, user_id):
        closed = await uow.attempts.get(attempt.id)
        if closed is not None and closed.finished_at is not None:
            await uow.security.add(user_id, "late", closed.id, {"what": "prediction"}, now)
            return "late", LATE_PREDICTION
    missing = attempt.total - len(await uow.attempts.answers(attempt.id))
    if missing > 0:
        raise PageRefusal(NOT_ALL_ANSWERED, n=missing)
    raw = re.sub(r"[\s.,]", "", raw_prediction or "")
    max_value = svc.definition(found[2]).prediction.max_value if found else 1_000_000
    if not re.fullmatch(r"\d{1,9}", raw) or int(raw) > max_value:
        raise PageRefusal(BAD_NUMBER, 400, max=max_value)
    await svc.submit(uow, attempt, int(raw), now, found)
    return "submitted", SUBMITTED
