"""Contest rules on the server: rounds, registration, timed attempts, first-answer-wins, results and publishing."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bot.accounts.consent import CHILD, GUARDIAN
from bot.accounts.ports import ClassRec, ConsentRec
from bot.content.loader import Content
from bot.content.models import Band, Question
from bot.contests import ranking
from bot.contests.models import ContestDef
from bot.contests.ports import ContestRec, ContestsUnitOfWork, EntryRec, LiveBooking, RoundRec
from bot.contests.ranking import PRIZE_NAMES, PRIZES
from bot.core import activity
from bot.core.clock import vn_time
from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.learning.ports import AttemptRec

log = logging.getLogger(__name__)

CONTEST = "contest"  # quiz_attempts.kind of an official attempt
CONTEST_PRACTICE = "contest_practice"
DEFAULT_GRACE = dt.timedelta(seconds=2)


class RoundState(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


STATE_NAMES = {
    RoundState.SCHEDULED: N_("chưa mở"),
    RoundState.OPEN: N_("đang mở"),
    RoundState.CLOSED: N_("đã đóng"),
    RoundState.PUBLISHED: N_("đã công bố kết quả"),
}


def definition(contest: ContestRec) -> ContestDef:
    """The contest's definition, validated once per definition object (the repositories hand out the same
    object for the same contest on the answer path, where this runs for every answer)."""
    key = id(contest.definition)
    hit = _PARSED.get(key)
    if hit is not None and hit[0] is contest.definition:  # the cache holds the dict, so its id is not reused
        _PARSED.move_to_end(key)
        return hit[1]
    parsed = ContestDef.model_validate(contest.definition)
    _PARSED[key] = (contest.definition, parsed)
    if len(_PARSED) > 32:
        _PARSED.popitem(last=False)
    return parsed


_PARSED: OrderedDict[int, tuple[dict[str, Any], ContestDef]] = OrderedDict()


def round_state(rnd: RoundRec, now: dt.datetime) -> RoundState:
    """Opening and closing follow the times written in the definition unless an organizer acted first."""
    if rnd.status == "published":
        return RoundState.PUBLISHED
    if rnd.status == "closed" or now >= rnd.closes_at:
        return RoundState.CLOSED
    if rnd.status == "open" or now >= rnd.opens_at:
        return RoundState.OPEN
    return RoundState.SCHEDULED


class ContestError(Refusal):
    """A contest rule stops an action; the chat shows it in the user's language, the terminal prints `str(exc)`
    (Vietnamese)."""


# --- organizer actions -------------------------------------------------------------------------------------


DUPLICATE_SLUG = N_("Đã có hội thi mã “{slug}”.")
UNKNOWN_SCHOOL = N_("Không có trường số {id} trong hệ thống.")
UNKNOWN_CLASS = N_("Không có lớp số {id} đang hoạt động trong hệ thống.")


@dataclass(frozen=True)
class Problem:
    """What stops a valid definition from being stored, with where it is in the definition (`loc`, as
    pydantic names a field: ("scope", "schools", 0))."""

    loc: tuple[str | int, ...]
    error: ContestError


async def definition_problems(uow: ContestsUnitOfWork, d: ContestDef) -> list[Problem]:
    """Every reason the stored data refuses `d`: a slug taken already, a school or class in its scope that does
    not exist (a contest limited to an unknown id would silently admit nobody)."""
    out = []
    if await uow.contests.by_slug(d.id) is not None:
        out.append(Problem(("id",), ContestError(DUPLICATE_SLUG, slug=d.id)))
    if d.scope.schools:
        schools = {s.id for s in await uow.schools.list()}
        out += [
            Problem(("scope", "schools", i), ContestError(UNKNOWN_SCHOOL, id=sid))
            for i, sid in enumerate(d.scope.schools)
            if sid not in schools
        ]
    if d.scope.classes:
        classes = {c.class_id for c in await uow.contests.class_members()}
        out += [
            Problem(("scope", "classes", i), ContestError(UNKNOWN_CLASS, id=cid))
            for i, cid in enumerate(d.scope.classes)
            if cid not in classes
        ]
    return out


async def create_contest(uow: ContestsUnitOfWork, d: ContestDef, actor_id: int | None, now: dt.datetime) -> ContestRec:
    problems = await definition_problems(uow, d)
    if problems:
        raise problems[0].error
    contest = await uow.contests.create(d.id, d.title, d.model_dump(mode="json"), actor_id, now)
    for i, r in enumerate(d.rounds, start=1):
        await uow.contests.add_round(contest.id, i, r.name, r.opens_at, r.closes_at)
    await uow.audit.add(
        actor_id, "contest.create", f"contest:{contest.id}", {"slug": d.id, "rounds": len(d.rounds)}, now
    )
    return contest


PRIZE_RULES = N_(
    "🏅 Giải cá nhân mỗi đợt, theo thứ hạng: {prizes}. Chỉ bài có từ {minimum}/{questions} câu đúng trở lên mới "
    "được xét giải ({why})."
)
MIN_BY_PERCENT = N_("{percent}% tổng số câu, làm tròn lên")
MIN_BY_SCORE = N_("mức tối thiểu đặt trong tệp hội thi")
NO_PRIZES = N_("không có giải cá nhân")
PRIZE_RULES_CHANGE = N_(
    "Các mức này đặt trong mục prizes của tệp YAML hội thi: nhat, nhi, ba, khuyen_khich (số giải mỗi loại), "
    "min_percent (phần trăm số câu đúng tối thiểu) hoặc min_score (số câu đúng tối thiểu). Muốn đặt khác, thầy/cô "
    "sửa tệp rồi tạo hội thi bằng lệnh “python -m bot contest create <tệp>”."
)


def prize_rules(d: ContestDef, translate: Callable[[str], str], how_to_change: bool = True) -> str:
    """The individual prizes and the minimum to win one, and (`how_to_change`) where to change them in the YAML
    file: shown when a contest is made."""
    p = d.prizes
    counts = [(n, PRIZE_NAMES[k]) for k, n in p.counts().items() if n]
    prizes = ", ".join(f"{n} {translate(name)}" for n, name in counts) or translate(NO_PRIZES)
    if p.min_score is not None:
        why = translate(MIN_BY_SCORE)
    else:
        why = translate(MIN_BY_PERCENT).format(percent=p.min_percent)
    rules = translate(PRIZE_RULES).format(prizes=prizes, minimum=p.minimum(d.questions), questions=d.questions, why=why)
    return f"{rules}\n{translate(PRIZE_RULES_CHANGE)}" if how_to_change else rules


async def open_round(uow: ContestsUnitOfWork, rnd: RoundRec, actor_id: int | None, now: dt.datetime) -> None:
    if rnd.status in ("closed", "published") or now >= rnd.closes_at:
        raise ContestError(N_("Đợt này đã kết thúc, không mở lại được."))
    await uow.contests.update_round(rnd.id, status="open", opened_at=now)
    await uow.audit.add(actor_id, "contest.open", f"round:{rnd.id}", {"contest": rnd.contest_id}, now)


async def close_round(uow: ContestsUnitOfWork, rnd: RoundRec, actor_id: int | None, now: dt.datetime) -> None:
    if rnd.status in ("closed", "published"):
        raise ContestError(N_("Đợt này đã đóng rồi."))
    await uow.contests.update_round(rnd.id, status="closed", closed_at=now)
    await uow.audit.add(actor_id, "contest.close", f"round:{rnd.id}", {"contest": rnd.contest_id}, now)


# --- reconciliation (REL-12): the stored deadline decides ---------------------------------------------------


async def close_overdue(uow: ContestsUnitOfWork, now: dt.datetime, user_id: int | None = None) -> int:
    """Submit every contest attempt whose deadline (plus its grace) has passed, as of its deadline.

    Called at start-up and whenever a student or organizer touches a contest; returns how many were closed."""
    return len(await finish_overdue(uow, await uow.contests.overdue_attempts(now, user_id), now))


async def finish_overdue(uow: ContestsUnitOfWork, attempts: list[AttemptRec], now: dt.datetime) -> set[int]:
    """`close_overdue` for contest attempts read already in this unit of work (e.g. a student's running ones):
    those unfinished whose deadline plus grace has passed are submitted as of their deadline. Returns their ids."""
    closed: set[int] = set()
    for attempt in sorted(attempts, key=lambda a: a.id):
        if attempt.finished_at is not None or attempt.deadline_at is None or not attempt.deadline_at < now:
            continue
        found = await uow.contests.attempt_context(attempt.id)
        grace = dt.timedelta(seconds=definition(found[2]).grace_seconds) if found else DEFAULT_GRACE
        if now <= attempt.deadline_at + grace:
            continue
        await _finish_at_deadline(uow, attempt, found[2] if found else None)
        closed.add(attempt.id)
    return closed


async def _finish_at_deadline(uow: ContestsUnitOfWork, attempt: AttemptRec, contest: ContestRec | None) -> int:
    assert attempt.deadline_at is not None
    score = await uow.attempts.finish_scored(attempt.id, attempt.deadline_at)
    if score is None:  # finished meanwhile
        score = await uow.attempts.correct_count(attempt.id)
    await _record_submitted(uow, attempt, score, attempt.deadline_at, contest)
    return score


async def _record_submitted(
    uow: ContestsUnitOfWork, attempt: AttemptRec, score: int, at: dt.datetime, contest: ContestRec | None
) -> None:
    """Participation record for the reports: an official attempt handed in (value = score, ref = its contest)."""
    if attempt.kind == CONTEST:
        ref = str(contest.id) if contest else None
        await activity.record_for(uow, attempt.user_id, activity.CONTEST_SUBMITTED, at, ref=ref, value=score)


# --- registration --------------------------------------------------------------------------------------------

CHILD_CONSENT_MISSING = N_("Em cần đồng ý với nội quy của mình trước khi dự thi. Em gõ /start và chọn “Em đồng ý” nhé.")
GUARDIAN_CONSENT_MISSING = N_(
    "Để dự thi, bố mẹ (người giám hộ) của em cần đồng ý trước. Thầy cô chủ nhiệm sẽ ghi nhận ý kiến của bố mẹ "
    "em; em nhờ bố mẹ báo với thầy cô nhé. Khi đã có sự đồng ý, em gõ “thi” để vào thi."
)


def consent_problem(consents: list[ConsentRec]) -> str | None:
    """The one place that decides whether consents allow a contest registration: the child's own agreement
    and the guardian's (recorded by the teacher). Returns the message id to show, or None when all is well."""
    kinds = {c.kind for c in consents if c.withdrawn_at is None}
    if CHILD not in kinds:
        return CHILD_CONSENT_MISSING
    if GUARDIAN not in kinds:
        return GUARDIAN_CONSENT_MISSING
    return None


def in_scope(d: ContestDef, klass: ClassRec) -> bool:
    s = d.scope
    return (
        (not s.schools or klass.school_id in s.schools)
        and (not s.classes or klass.id in s.classes)
        and (not s.grades or klass.grade in s.grades)
        and (not s.bands or Band.for_grade(klass.grade) in s.bands)
    )


# --- attempts -----------------------------------------------------------------------------------------------


def question_pool(content: Content, d: ContestDef, day: dt.date, band: Band | None) -> list[Question]:
    topics = set(d.mix.topics)
    return [q for q in content.questions_on(day, band=band) if not topics or content.question_topic[q.id] in topics]


def draw_questions(
    content: Content, d: ContestDef, day: dt.date, band: Band | None, rng: random.Random
) -> list[Question]:
    """N questions by topic and difficulty mix, each attempt its own draw; fewer if the bank is smaller."""
    pool = question_pool(content, d, day, band)
    pool.sort(key=lambda q: q.id)  # the draw depends on the rng only, not on dict order
    picked: list[Question] = []
    for difficulty, count in sorted(d.mix.difficulty.items()):
        same = [q for q in pool if q.difficulty == difficulty]
        picked += rng.sample(same, min(count, len(same)))
    chosen = {q.id for q in picked}
    rest = [q for q in pool if q.id not in chosen]
    picked += rng.sample(rest, min(d.questions - len(picked), len(rest)))
    rng.shuffle(picked)
    return picked


def shown_order(questions: list[Question], rng: random.Random) -> list[list[Any]]:
    """Each question with its options in a shuffled order: [[question id, order], ...] as an attempt stores it."""
    shown: list[list[Any]] = []
    for q in questions:
        order = list(range(len(q.options)))
        rng.shuffle(order)
        shown.append([q.id, order])
    return shown


def pool_warnings(content: Content, d: ContestDef, day: dt.date) -> list[str]:
    """CHEAT-4: the bank should hold at least 1.5 times the attempt's length, so attempts differ enough."""
    warnings = []
    for band, who in ((Band.PRIMARY, "tiểu học"), (Band.LOWER_SECONDARY, "THCS")):
        n = len(question_pool(content, d, day, band))
        if n < 1.5 * d.questions:
            warnings.append(
                f"Cảnh báo: ngân hàng chỉ có {n} câu cho học sinh {who} ({d.questions} câu mỗi bài; "
                f"nên có ít nhất {int(1.5 * d.questions + 0.5)})."
            )
    return warnings


async def start_attempt(
    uow: ContestsUnitOfWork,
    content: Content,
    d: ContestDef,
    rnd: RoundRec,
    registration_id: int,
    user_id: int,
    band: Band | None,
    official: bool,
    now: dt.datetime,
    day: dt.date,
    rng: random.Random | None = None,
    official_used: int | None = None,
    registration_locked: bool = False,
    shown: list[list[Any]] | None = None,
    deadline: dt.datetime | None = None,
    live: bool = False,
) -> AttemptRec | None:
    """A new attempt with its server-side deadline; None when no official attempt is left. An ordinary official
    attempt of a student whose class takes the round live is refused (`LiveClassTurn`) until that live round is over.

    What the caller read in this unit of work: `official_used`, the student's official attempts in the round
    (counted here when None); `registration_locked`, the registration is locked already. A live round gives its
    own `shown` questions (the same for everyone) and `deadline` (its schedule's end)."""
    rng = rng or random.SystemRandom()
    official_no = None
    if official:
        if official_used is None:
            official_used = sum(1 for e in await uow.contests.entries_of(rnd.id, user_id) if e.official_no is not None)
        if official_used >= d.official_attempts:
            return None
        if not live:
            await _refuse_before_live(uow, rnd, user_id, now)
        official_no = official_used + 1
    if shown is None:
        shown = shown_order(draw_questions(content, d, day, band, rng), rng)
    if deadline is None:
        deadline = now + dt.timedelta(minutes=d.time_limit_minutes)
    kind = CONTEST if official else CONTEST_PRACTICE
    ref = f"round:{rnd.id}{LIVE if live else ''}"
    attempt = await uow.attempts.create(user_id, kind, None, ref, shown, now, deadline_at=deadline)
    if not await uow.contests.add_entry(rnd.id, registration_id, user_id, attempt.id, official_no, now):
        return None  # a concurrent start took this official attempt; the caller rolls back
    if not registration_locked:
        await uow.contests.lock_registration(registration_id, now)
    if official:
        await activity.record_for(uow, user_id, activity.CONTEST_ENTERED, now, ref=str(rnd.contest_id))
    return attempt


LIVE_CLASS = N_(
    "🎯 Lớp em thi đợt này cùng nhau trong vòng trực tiếp, bắt đầu lúc {time} ngày {day}. Bài thi chính thức "
    "của em là bài trong vòng trực tiếp, nên bây giờ em chưa làm bài chính thức ở đây được. Em bấm "
    "“🌐 Làm bài trên trang web” để mở trang thi rồi bấm “🎯 Vào vòng trực tiếp” nhé."
)


class LiveClassTurn(ContestError):
    """The student's class takes the round live (`bot.live`) and the live round can still be joined: their
    official attempt is the live one. Its fields: the live round's start as `time` (HH:MM) and `day` (dd/mm), in
    Vietnam time."""


async def _refuse_before_live(uow: ContestsUnitOfWork, rnd: RoundRec, user_id: int, now: dt.datetime) -> None:
    """Refuse the ordinary official attempt to a student whose class takes the round live, until the live round
    can no longer be joined (its last question has closed, when `bot.live` says it is over): starting it first
    would use up the attempt the live round needs. Once it is over, a student of the class who did not take part
    (away that day) may take the ordinary official attempt while the round is open: the live round is one way to
    take the round's official attempt, not a reason to lose it, and the ordinary attempt draws its own questions
    with the usual time limit. Students of the live round used theirs there (unless the contest allows more)."""
    booking = await live_turn(uow, rnd, user_id, now)
    if booking is not None:
        raise LiveClassTurn(LIVE_CLASS, **live_start(booking))


async def live_turn(uow: ContestsUnitOfWork, rnd: RoundRec, user_id: int, now: dt.datetime) -> LiveBooking | None:
    """The live round the student's class takes this round in, while it can still be joined; else None."""
    booking = await uow.live.booking(rnd.id, rnd.contest_id, user_id)
    return booking if booking is not None and now < booking.joinable_until else None


def live_start(booking: LiveBooking) -> dict[str, str]:
    """When the live round starts, as its messages say it: `time` (HH:MM) and `day` (dd/mm), in Vietnam time."""
    return {"time": vn_time(booking.starts_at, "%H:%M"), "day": vn_time(booking.starts_at, "%d/%m")}


# The ref of a live round's attempts ends so: they are answered on the live round's schedule only (`bot.live`).
LIVE = ":live"


class Outcome(StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"  # the question was answered already: the first answer stands
    LATE = "late"  # after deadline + grace: rejected, and the attempt is submitted as of its deadline
    CLOSED = "closed"  # the attempt was submitted before
    FOREIGN = "foreign"  # someone else's attempt
    FORGED = "forged"  # an unseen question, an option out of range, or not a contest attempt


@dataclass
class AnswerResult:
    outcome: Outcome
    attempt: AttemptRec | None = None
    # The next question to ask in the chat: the first with no answer before this one, else the one after it.
    answered: int = 0


async def submit_answer(
    uow: ContestsUnitOfWork,
    content: Content,
    user_id: int,
    attempt_id: int,
    seq: int,
    pos: int,
    now: dt.datetime,
    any_order: bool = False,
    round_id: int | None = None,
    live: bool = False,
) -> AnswerResult:
    """Record one answer if every rule allows it; otherwise change nothing and log why (CHEAT-1, REL-9/12).

    The chat asks one question at a time: only its first unanswered question may be answered. The contest page
    shows the whole attempt (`any_order`): any question of it not answered yet; the first answer still wins.
    With `round_id` (the page's session is bound to one round) an attempt of another round counts as foreign."""

    async def reject(outcome: Outcome, attempt: AttemptRec | None, **detail: Any) -> AnswerResult:
        await uow.security.add(
            user_id, outcome.value, attempt.id if attempt else None, {"seq": seq, "pos": pos, **detail}, now
        )
        return AnswerResult(outcome, attempt)

    state = await uow.contests.answering(attempt_id)
    if state is None or state.attempt.user_id != user_id:
        return await reject(Outcome.FOREIGN, None, target=attempt_id)
    if (state.attempt.ref or "").endswith(LIVE) != live:  # a live round's answers follow its schedule only
        return await reject(Outcome.FORGED, state.attempt, reason="live attempt" if not live else "not live")
    if round_id is not None and state.attempt.ref != f"round:{round_id}":
        return await reject(Outcome.FOREIGN, state.attempt, reason="another round")
    attempt, contest, answered = state.attempt, state.contest, state.answered
    if contest is None or attempt.deadline_at is None:
        return await reject(Outcome.FORGED, attempt, reason="not a contest attempt")
    if attempt.finished_at is not None:
        return await reject(Outcome.CLOSED, attempt)
    if now > attempt.deadline_at + dt.timedelta(seconds=definition(contest).grace_seconds):
        await _finish_at_deadline(uow, attempt, contest)
        return await reject(Outcome.LATE, attempt, late_by=(now - attempt.deadline_at).total_seconds())
    if 0 <= seq < answered:
        return AnswerResult(Outcome.DUPLICATE, attempt, answered)
    if seq < 0 or seq >= attempt.total or (seq > answered and not any_order):
        return await reject(Outcome.FORGED, attempt, reason="unseen question")
    qid, order = attempt.questions[seq]
    question = content.question(qid)
    if question is None or not 0 <= pos < len(order):
        return await reject(Outcome.FORGED, attempt, reason="option out of range")
    chosen = order[pos]
    if not await uow.attempts.add_answer(attempt.id, seq, qid, chosen, chosen == question.answer, now):
        return AnswerResult(Outcome.DUPLICATE, attempt, answered)
    following = answered if seq > answered else seq + 1
    if seq == answered and state.stored > answered:  # later questions were answered on the page: skip them
        done = {a.seq for a in await uow.attempts.answers(attempt.id)}
        following = next((s for s in range(seq + 1, attempt.total) if s not in done), attempt.total)
    return AnswerResult(Outcome.RECORDED, attempt, following)


@dataclass
class Submitted:
    """What a submission left stored: the attempt and its contest entry."""

    attempt: AttemptRec
    entry: EntryRec | None


async def submit(
    uow: ContestsUnitOfWork,
    attempt: AttemptRec,
    prediction: int | None,
    now: dt.datetime,
    found: tuple[EntryRec, RoundRec, ContestRec] | None,
) -> Submitted:
    """Submit (nộp bài) with the prediction, scored from the stored answers. `found` is the attempt's entry,
    round and contest (`contests.attempt_context`, read by the caller in this unit of work), None outside contests.
    The first prediction and the first submission stay: what is returned is what is stored."""
    entry = found[0] if found else None
    if entry is not None and prediction is not None:
        if await uow.contests.set_prediction(entry.id, prediction):
            entry = replace(entry, prediction=prediction)
        else:
            entry = await uow.contests.entry_by_attempt(attempt.id)
    score = await uow.attempts.finish_scored(attempt.id, now)
    if score is not None:
        stored: AttemptRec | None = replace(attempt, finished_at=now, score=score)
    else:  # finished meanwhile: that submission stays
        score = await uow.attempts.correct_count(attempt.id)
        stored = await uow.attempts.get(attempt.id)
    assert stored is not None
    await _record_submitted(uow, attempt, score, now, found[2] if found else None)
    return Submitted(stored, entry)


# --- results ------------------------------------------------------------------------------------------------


@dataclass
class RoundResults:
    contest: ContestRec
    definition: ContestDef
    round: RoundRec
    actual: int
    ranked: list[ranking.Ranked]
    units: list[ranking.UnitResult]
    flagged: set[int]  # attempt ids answered suspiciously fast, for the organizers to review

    @property
    def winners(self) -> list[ranking.Ranked]:
        return [r for r in self.ranked if r.prize]


async def results(uow: ContestsUnitOfWork, contest: ContestRec, rnd: RoundRec) -> RoundResults:
    """Ranking, prizes and the collective prize. A published round reads the record frozen when it was
    published (later deletions of personal data change its names, never its figures); any other round is
    computed from the stored rows."""
    if rnd.status == RoundState.PUBLISHED:
        frozen = await uow.contests.frozen(rnd.id)
        if frozen is not None:
            return RoundResults(
                contest, definition(contest), rnd, frozen.actual, frozen.ranked, frozen.units, frozen.flagged
            )
    return await live_results(uow, contest, rnd)


async def live_results(uow: ContestsUnitOfWork, contest: ContestRec, rnd: RoundRec) -> RoundResults:
    """Ranking, prizes and the collective prize, computed from stored rows only."""
    d = definition(contest)
    entries = await uow.contests.official_results(rnd.id)
    actual = ranking.actual_value(entries, d.prediction.target.value)
    best = ranking.best_per_student(entries, actual, d.ranking)
    ranked = ranking.award(
        ranking.rank(best, actual, d.ranking), d.prizes.counts(), d.prizes.min_score, d.prizes.min_percent
    )
    submitted = {e.attempt_id for e in entries}
    flagged = submitted & await uow.contests.too_fast(rnd.id, d.review_median_seconds)
    return RoundResults(contest, d, rnd, actual, ranked, await collective(uow, contest, d), flagged)


async def collective(uow: ContestsUnitOfWork, contest: ContestRec, d: ContestDef) -> list[ranking.UnitResult]:
    if d.collective is None:
        return []
    classes = [
        c
        for c in await uow.contests.class_members()
        if in_scope(d, ClassRec(c.class_id, c.school_id, None, c.class_name, c.grade, "", ""))
    ]
    by_school = d.collective.unit == "school"
    units: dict[int, ranking.Unit] = {}
    for c in classes:
        if by_school:
            u = units.get(c.school_id)
            members = (u.members if u else 0) + c.members
            units[c.school_id] = ranking.Unit(c.school_id, c.school_name, members, c.school_name)
        else:
            units[c.class_id] = ranking.Unit(c.class_id, c.class_name, c.members, c.school_name)
    taking_part: dict[int, set[int]] = {}
    for p in await uow.contests.participants(contest.id):
        key = p.school_id if by_school else p.class_id
        if key is not None and key in units:
            taking_part.setdefault(key, set()).add(p.user_id)
    return ranking.collective(units.values(), taking_part, d.collective.by, d.collective.top)


PRIZE_NOTICE = N_(
    "🏆 Chúc mừng {name}! Em đạt {prize} trong {round} – {title}, với {score}/{total} câu đúng. "
    "Nhà trường sẽ thông báo lịch trao giải."
)


async def publish(
    uow: ContestsUnitOfWork,
    contest: ContestRec,
    rnd: RoundRec,
    actor_id: int | None,
    now: dt.datetime,
    translate: Callable[[str | None, str], str],
) -> RoundResults:
    """Publish a closed round: freeze its results (standings, prizes, collective figures) as they are now, write
    a notice to each winner, audit it."""
    await close_overdue(uow, now)
    state = round_state(rnd, now)
    if state is RoundState.PUBLISHED:
        raise ContestError(N_("Kết quả đợt này đã được công bố rồi."))
    if state is not RoundState.CLOSED:
        raise ContestError(N_("Đợt thi chưa đóng. Hãy đóng đợt trước khi công bố kết quả."))
    running = await uow.contests.running_count(rnd.id)
    if running:
        raise ContestError(N_("Còn {n} bài đang làm dở (chưa hết giờ). Hãy chờ các bài này nộp xong."), n=running)
    res = await live_results(uow, contest, rnd)
    await uow.contests.update_round(rnd.id, status="published", published_at=now, actual=res.actual)
    unit = res.definition.collective.unit if res.definition.collective else ""
    await uow.contests.freeze(rnd.id, res.actual, res.ranked, res.units, res.flagged, unit, now)
    for r in res.winners:
        user = await uow.users.get(r.entry.user_id)
        locale = user.locale if user else None
        text = translate(locale, PRIZE_NOTICE).format(
            name=r.entry.name,
            prize=translate(locale, PRIZE_NAMES[r.prize]),
            round=rnd.name,
            title=contest.title,
            score=r.entry.score,
            total=r.entry.total,
        )
        await uow.notices.add(r.entry.user_id, text, now)
        await activity.record_for(
            uow, r.entry.user_id, activity.CONTEST_AWARDED, now, ref=str(contest.id), value=PRIZES.index(r.prize) + 1
        )
    await uow.audit.add(
        actor_id,
        "contest.publish",
        f"round:{rnd.id}",
        {"contest": contest.id, "entries": len(res.ranked), "winners": len(res.winners), "actual": res.actual},
        now,
    )
    return res


async def find_contest(uow: ContestsUnitOfWork, ref: str) -> ContestRec | None:
    ref = ref.strip()
    if ref.isdigit():
        return await uow.contests.get(int(ref))
    return await uow.contests.by_slug(ref)


def current_round(rounds: list[RoundRec], now: dt.datetime, ended: bool = False) -> RoundRec | None:
    """The open round, else the next scheduled one, else the last one. With `ended` (results, publishing,
    exports): the latest closed round first, then the latest published one."""
    if ended:
        for state in (RoundState.CLOSED, RoundState.PUBLISHED):
            done = [r for r in rounds if round_state(r, now) is state]
            if done:
                return done[-1]
    for state in (RoundState.OPEN, RoundState.SCHEDULED):
        for r in rounds:
            if round_state(r, now) is state:
                return r
    return rounds[-1] if rounds else None
