"""The live round's rules: one schedule for everyone, answers only while their question is open, and the
standings of classes and schools. The answers are the round's own official attempts (so the ranking, prizes,
collective prize and exports are the contest's), through the same checks as the chat (`submit_answer`)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.accounts.ports import ClassRec
from bot.content.loader import Content
from bot.content.models import Band
from bot.contests import service as contests
from bot.contests.ports import ContestRec, RegistrationRec, RoundRec
from bot.contests.service import AnswerResult, ContestError, Outcome, RoundState
from bot.core.i18n import N_
from bot.live.ports import LiveRec, LiveUnitOfWork, ParticipantRec

QUESTION_SECONDS = (10, 120)  # the range an organizer may choose (default 20 s)
PAUSE_SECONDS = (3, 60)  # the standings between questions (default 5 s)

ROUND_NOT_OPEN = N_("Vòng thi này chưa mở hoặc đã đóng, nên chưa bắt đầu được vòng trực tiếp.")
ALREADY_LIVE = N_("Vòng thi này đã có một vòng trực tiếp rồi.")
NO_CLASSES = N_("Thầy/cô chọn ít nhất một lớp tham gia nhé.")
OUT_OF_SCOPE = N_("Có lớp không thuộc phạm vi của hội thi này, nên chưa bắt đầu được.")
MIXED_BANDS = N_(
    "Các lớp đã chọn có cả lớp tiểu học và lớp THCS. Mỗi vòng trực tiếp dùng một bộ câu hỏi, "
    "thầy/cô chọn các lớp cùng cấp học nhé."
)
BAD_TIMING = N_("Thời gian mỗi câu từ 10 đến 120 giây, nghỉ giữa các câu từ 3 đến 60 giây.")
STARTS_IN_PAST = N_("Giờ bắt đầu đã qua. Thầy/cô chọn một giờ sắp tới nhé.")
ENDS_AFTER_CLOSE = N_(
    "Vòng trực tiếp sẽ kết thúc sau giờ đóng vòng thi. Thầy/cô bắt đầu sớm hơn hoặc bớt thời gian mỗi câu."
)
NO_QUESTIONS = N_("Ngân hàng câu hỏi không còn câu nào dùng được cho các lớp này hôm nay.")
NOT_YOUR_CLASS = N_("Lớp của em không tham gia vòng trực tiếp này.")
LIVE_OVER = N_("Vòng trực tiếp đã kết thúc rồi. Em xem kết quả khi ban tổ chức công bố nhé.")
OFFICIAL_USED = N_("Em đã làm bài chính thức của vòng thi này rồi, nên không vào vòng trực tiếp được nữa.")
NOT_REGISTERED = N_("Em cần đăng ký dự thi trước khi vào vòng trực tiếp.")


class Phase(StrEnum):
    WAITING = "waiting"  # before the first question
    QUESTION = "question"  # `index` is open for answers
    PAUSE = "pause"  # `index` has just closed: the standings
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Slot:
    phase: Phase
    index: int  # the open question, or the one that has just closed (0 while waiting)
    ends_at: dt.datetime  # when this phase ends (the end of the round once ended)
    closed: int  # questions whose time is over


def _step(live: LiveRec) -> dt.timedelta:
    return dt.timedelta(seconds=live.question_seconds + live.pause_seconds)


def last_answer_at(live: LiveRec) -> dt.datetime:
    """When the last question closes."""
    return live.starts_at + _step(live) * (len(live.questions) - 1) + dt.timedelta(seconds=live.question_seconds)


def ends_at(live: LiveRec) -> dt.datetime:
    """The end of the round: after the last question's pause (the final standings)."""
    return live.starts_at + _step(live) * len(live.questions)


def slot(live: LiveRec, now: dt.datetime) -> Slot:
    """Where the schedule is at `now`: computed from the stored start only, so every process (and a restarted
    one) agrees."""
    n = len(live.questions)
    if now < live.starts_at:
        return Slot(Phase.WAITING, 0, live.starts_at, 0)
    if now >= ends_at(live):
        return Slot(Phase.ENDED, n - 1, ends_at(live), n)
    index = int((now - live.starts_at) / _step(live))
    opened = live.starts_at + _step(live) * index
    closes = opened + dt.timedelta(seconds=live.question_seconds)
    if now < closes:
        return Slot(Phase.QUESTION, index, closes, index)
    return Slot(Phase.PAUSE, index, opened + _step(live), index + 1)


# --- the organizer ------------------------------------------------------------------------------------------


async def start(
    uow: LiveUnitOfWork,
    content: Content,
    contest: ContestRec,
    rnd: RoundRec,
    classes: list[ClassRec],
    question_seconds: int,
    pause_seconds: int,
    starts_at: dt.datetime,
    actor_id: int | None,
    now: dt.datetime,
    day: dt.date,
    rng: random.Random | None = None,
) -> LiveRec:
    """Schedule a live round for the chosen classes: one draw of the questions, one option order for all."""
    d = contests.definition(contest)
    if contests.round_state(rnd, now) != RoundState.OPEN:
        raise ContestError(ROUND_NOT_OPEN)
    if not classes:
        raise ContestError(NO_CLASSES)
    if not all(contests.in_scope(d, k) for k in classes):
        raise ContestError(OUT_OF_SCOPE)
    bands = {Band.for_grade(k.grade) for k in classes}
    if len(bands) > 1:
        raise ContestError(MIXED_BANDS)
    low, high = QUESTION_SECONDS
    if not (low <= question_seconds <= high and PAUSE_SECONDS[0] <= pause_seconds <= PAUSE_SECONDS[1]):
        raise ContestError(BAD_TIMING)
    if starts_at < now:
        raise ContestError(STARTS_IN_PAST)
    rng = rng or random.SystemRandom()
    questions = contests.draw_questions(content, d, day, bands.pop(), rng)
    if not questions:
        raise ContestError(NO_QUESTIONS)
    shown = contests.shown_order(questions, rng)
    step = question_seconds + pause_seconds
    if starts_at + dt.timedelta(seconds=step * len(shown)) > rnd.closes_at:
        raise ContestError(ENDS_AFTER_CLOSE)
    live = await uow.live.create(
        rnd.id, sorted(k.id for k in classes), shown, question_seconds, pause_seconds, starts_at, actor_id, now
    )
    if live is None:
        raise ContestError(ALREADY_LIVE)
    detail = {"classes": len(classes), "questions": len(shown)}
    await uow.audit.add(actor_id, "live.start", f"round:{rnd.id}", detail, now)
    return live


# --- the students -------------------------------------------------------------------------------------------


async def join(
    uow: LiveUnitOfWork,
    content: Content,
    live: LiveRec,
    contest: ContestRec,
    rnd: RoundRec,
    registration: RegistrationRec | None,
    user_id: int,
    now: dt.datetime,
    day: dt.date,
) -> ParticipantRec:
    """The student's place in the live round (the same one when they come back): an official attempt of the
    round holding the live questions, with the round's end as its deadline. Registration and both consents are
    the contest's own rules."""
    found = await uow.live.participant(live.id, user_id)
    if found is not None:
        return found
    if registration is None or registration.contest_id != contest.id:
        raise ContestError(NOT_REGISTERED)
    problem = contests.consent_problem(await uow.consents.active(user_id))
    if problem is not None:
        raise ContestError(problem)
    if registration.class_id not in live.class_ids:
        raise ContestError(NOT_YOUR_CLASS)
    if now >= last_answer_at(live):
        raise ContestError(LIVE_OVER)
    d = contests.definition(contest)
    attempt = await contests.start_attempt(
        uow,
        content,
        d,
        rnd,
        registration.id,
        user_id,
        None,
        True,
        now,
        day,
        shown=live.questions,
        deadline=ends_at(live),
        live=True,
        registration_locked=registration.locked_at is not None,
    )
    if attempt is None:
        raise ContestError(OFFICIAL_USED)
    if not await uow.live.join(
        live.id,
        user_id,
        attempt.id,
        registration.school_id,
        registration.school_name,
        registration.class_id,
        registration.class_name,
        now,
    ):  # a concurrent join won: the caller rolls back this unit of work and reads that one
        raise ContestError(OFFICIAL_USED)
    # Every live attempt runs from the round's start to its end, so the completion-time tie-break is the same for
    # all (joining early is no handicap) and ties go to the prediction.
    await uow.live.align_start(attempt.id, live.starts_at)
    return ParticipantRec(user_id, attempt.id, registration.school_id, registration.class_id)


async def answer(
    uow: LiveUnitOfWork, content: Content, live: LiveRec, user_id: int, seq: int, pos: int, now: dt.datetime
) -> AnswerResult:
    """One answer to the open question. An answer to another question than the open one (early, late, or a
    replay of an old one) changes nothing and is logged; a question the student let pass stays unanswered."""
    me = await uow.live.participant(live.id, user_id)
    if me is None:
        await uow.security.add(user_id, Outcome.FOREIGN.value, None, {"live": live.id, "seq": seq}, now)
        return AnswerResult(Outcome.FOREIGN)
    at = slot(live, now)
    state = await uow.contests.answering(me.attempt_id)
    if state is None:
        return AnswerResult(Outcome.FOREIGN)
    if at.phase != Phase.QUESTION or seq != at.index:
        detail = {"live": live.id, "seq": seq, "pos": pos, "open": at.index if at.phase == Phase.QUESTION else None}
        await uow.security.add(user_id, Outcome.LATE.value, me.attempt_id, detail, now)
        return AnswerResult(Outcome.LATE, state.attempt, state.answered)
    return await contests.submit_answer(uow, content, user_id, me.attempt_id, seq, pos, now, any_order=True, live=True)


async def predict(uow: LiveUnitOfWork, live: LiveRec, user_id: int, value: int, now: dt.datetime) -> bool:
    """The student's prediction (the tie-break), until the round ends; the first one stays."""
    me = await uow.live.participant(live.id, user_id)
    if me is None or now >= ends_at(live) or value < 0:
        return False
    entry = await uow.contests.entry_by_attempt(me.attempt_id)
    return entry is not None and await uow.contests.set_prediction(entry.id, value)


# --- the standings ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Standing:
    name: str
    school_name: str
    school_id: int
    joined: int
    members: int
    correct: int
    asked: int  # joined × closed questions

    @property
    def rate(self) -> float:
        """The rate of correct answers to the closed questions."""
        return self.correct / self.asked if self.asked else 0.0

    @property
    def participation(self) -> float:
        return min(self.joined / self.members, 1.0) if self.members else 0.0


@dataclass(slots=True)
class Standings:
    closed: int
    classes: list[Standing] = field(default_factory=list)
    schools: list[Standing] = field(default_factory=list)


def _ranked(rows: Iterable[Standing]) -> list[Standing]:
    return sorted(rows, key=lambda s: (-s.rate, -s.participation, s.school_name, s.name))


async def standings(uow: LiveUnitOfWork, live: LiveRec, now: dt.datetime) -> Standings:
    """Classes and schools by their rate of correct answers, then participation (students who joined out of
    the class's students); every chosen class is listed, those nobody joined from too."""
    closed = slot(live, now).closed
    members = {c.class_id: c for c in await uow.contests.class_members() if c.class_id in set(live.class_ids)}
    tallies = {t.class_id: t for t in await uow.live.tallies(live.id, closed)}
    classes = []
    for class_id, c in members.items():
        t = tallies.get(class_id)
        joined, correct = (t.joined, t.correct) if t else (0, 0)
        classes.append(Standing(c.class_name, c.school_name, c.school_id, joined, c.members, correct, joined * closed))
    schools: dict[int, Standing] = {}
    for s in classes:
        total = schools.setdefault(s.school_id, Standing(s.school_name, s.school_name, s.school_id, 0, 0, 0, 0))
        total.joined += s.joined
        total.members += s.members
        total.correct += s.correct
        total.asked += s.asked
    return Standings(closed, _ranked(classes), _ranked(schools.values()))
