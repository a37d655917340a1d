"""The live round: one schedule for everyone, answers only while their question is open, standings that equal an
independent count, and results that are the round's own (ranking, exports)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from bot.app import App, build_app
from bot.config import Settings
from bot.contests import service as contests
from bot.contests.service import ContestError, Outcome
from bot.core.context import CoreSettings
from bot.live import service as live_svc
from bot.live.ports import LiveRec
from bot.live.service import Phase, slot
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import contest_def, make_contest, make_roster

START = dt.datetime(2027, 8, 19, 1, 0, tzinfo=dt.UTC)


def live_rec(n: int = 3, q: int = 20, p: int = 5) -> LiveRec:
    return LiveRec(1, 1, [1], [[f"q{i}", [0, 1, 2]] for i in range(n)], q, p, START, None, START)


@pytest.mark.parametrize(
    ("seconds", "phase", "index", "closed"),
    [
        (-1, Phase.WAITING, 0, 0),
        (0, Phase.QUESTION, 0, 0),
        (19.9, Phase.QUESTION, 0, 0),
        (20, Phase.PAUSE, 0, 1),  # the question's 20 s are over: its standings
        (25, Phase.QUESTION, 1, 1),
        (70, Phase.PAUSE, 2, 3),  # the last question closed: the final standings
        (75, Phase.ENDED, 2, 3),
    ],
)
def test_the_schedule_is_computed_from_the_stored_start(seconds: float, phase: Phase, index: int, closed: int) -> None:
    at = slot(live_rec(), START + dt.timedelta(seconds=seconds))
    assert (at.phase, at.index, at.closed) == (phase, index, closed)


def test_each_phase_ends_on_the_schedule() -> None:
    live = live_rec()
    assert slot(live, START + dt.timedelta(seconds=3)).ends_at == START + dt.timedelta(seconds=20)
    assert slot(live, START + dt.timedelta(seconds=21)).ends_at == START + dt.timedelta(seconds=25)
    assert live_svc.last_answer_at(live) == START + dt.timedelta(seconds=70)


async def _setup(app: App, clock: FakeClock, students: int = 24) -> tuple[int, int, list[int], list[tuple[int, int]]]:
    """A contest round open now, 3 classes of one school; every student registered. Returns the contest and
    round ids, the class ids, and (user id, class id) of each student."""
    rng = random.Random(7)
    roster = await make_roster(app, 1, 3, students, rng)
    contest_id = await make_contest(app, contest_def(clock(), questions=5))
    async with app.uow_factory() as uow:
        rnd = (await uow.contests.rounds(contest_id))[0]
        members = []
        for _channel, _ext, user_id, name in roster.students:
            klass = (await uow.classes.of_student(user_id))[0]
            await uow.contests.register(
                contest_id,
                user_id,
                name,
                klass.school_id,
                "Trường THCS Số 1",
                klass.id,
                klass.name,
                klass.grade,
                clock(),
            )
            members.append((user_id, klass.id))
        await uow.commit()
    return contest_id, rnd.id, sorted(roster.classes), members


async def _start(app: App, clock: FakeClock, contest_id: int, round_id: int, class_ids: list[int]) -> LiveRec:
    async with app.uow_factory() as uow:
        contest = await uow.contests.get(contest_id)
        rnd = await uow.contests.round(round_id)
        assert contest and rnd
        classes = [k for k in [await uow.classes.get(c) for c in class_ids] if k]
        live = await live_svc.start(
            uow,
            app.content,
            contest,
            rnd,
            classes,
            20,
            5,
            clock() + dt.timedelta(minutes=2),
            1,
            clock(),
            clock().date(),
        )
        await uow.commit()
    return live


async def _join(app: App, clock: FakeClock, live: LiveRec, user_id: int) -> None:
    async with app.uow_factory() as uow:
        contest = await uow.contests.get((await uow.contests.round(live.round_id)).contest_id)  # type: ignore[union-attr]
        rnd = await uow.contests.round(live.round_id)
        assert contest and rnd
        reg = await uow.contests.registration(contest.id, user_id)
        await live_svc.join(uow, app.content, live, contest, rnd, reg, user_id, clock(), clock().date())
        await uow.commit()


async def _answer(app: App, clock: FakeClock, live: LiveRec, user_id: int, seq: int, pos: int) -> Outcome:
    async with app.uow_factory() as uow:
        result = await live_svc.answer(uow, app.content, live, user_id, seq, pos, clock())
        await uow.commit()
    return result.outcome


def _correct(app: App, live: LiveRec, seq: int, pos: int) -> bool:
    qid, order = live.questions[seq]
    question = app.content.question(qid)
    assert question is not None
    return bool(order[pos] == question.answer)


@pytest.mark.slow
async def test_a_live_round_of_three_classes_stores_each_answer_once_and_counts_the_standings(
    app: App, clock: FakeClock
) -> None:
    contest_id, round_id, class_ids, students = await _setup(app, clock)
    live = await _start(app, clock, contest_id, round_id, class_ids)
    n = len(live.questions)
    assert n == 5 and all(q == live.questions[0] or q[0] != live.questions[0][0] for q in live.questions)

    rng = random.Random(3)
    joined = [s for s in students if rng.random() < 0.8]
    for user_id, _class_id in joined:
        await _join(app, clock, live, user_id)
        await _join(app, clock, live, user_id)  # a second tap on "vào thi" keeps the first place
    expected_correct: dict[int, int] = defaultdict(int)  # class id -> correct answers (independent count)
    expected_score: dict[int, int] = defaultdict(int)
    stored: dict[int, int] = defaultdict(int)  # user id -> answers that count as stored (recorded)
    clock.now = live.starts_at
    for seq in range(n):
        clock.now = live.starts_at + dt.timedelta(seconds=25 * seq + 1)
        for user_id, class_id in joined:
            if rng.random() < 0.2:
                continue  # lets this question pass
            pos = rng.randrange(len(live.questions[seq][1]))
            assert await _answer(app, clock, live, user_id, seq, pos) == Outcome.RECORDED
            # a double tap, or another option chosen after the first: the first answer stands
            assert await _answer(app, clock, live, user_id, seq, (pos + 1) % 3) == Outcome.DUPLICATE
            stored[user_id] += 1
            if _correct(app, live, seq, pos):
                expected_correct[class_id] += 1
                expected_score[user_id] += 1
        clock.now = live.starts_at + dt.timedelta(seconds=25 * seq + 21)  # the pause: answers are late
        late_user = joined[seq][0]
        assert await _answer(app, clock, live, late_user, seq, 0) == Outcome.LATE

    clock.now = live_svc.ends_at(live)
    async with app.uow_factory() as uow:
        standings = await live_svc.standings(uow, live, clock())
        answers = await uow.session.execute(  # type: ignore[attr-defined]
            select(m.AttemptAnswer.attempt_id, func.count())
            .where(m.AttemptAnswer.chosen >= 0)
            .group_by(m.AttemptAnswer.attempt_id)
        )
        per_attempt = dict(answers.all())
    assert standings.closed == n
    by_name = {s.name: s for s in standings.classes}
    async with app.uow_factory() as uow:
        names = {c: (await uow.classes.get(c)).name for c in class_ids}  # type: ignore[union-attr]
    for class_id in class_ids:
        row = by_name[names[class_id]]
        in_class = [u for u, c in students if c == class_id]
        joined_here = [u for u, c in joined if c == class_id]
        assert row.members == len(in_class)
        assert row.joined == len(joined_here)
        assert row.correct == expected_correct[class_id]
        assert row.rate == pytest.approx(expected_correct[class_id] / (len(joined_here) * n))
        assert row.participation == pytest.approx(len(joined_here) / len(in_class))
    rates = [s.rate for s in standings.classes]
    assert rates == sorted(rates, reverse=True)
    assert standings.schools[0].joined == len(joined)
    assert sorted(per_attempt.values()) == sorted(v for v in stored.values() if v)

    # The attempts end with the schedule and feed the round's own ranking.
    async with app.uow_factory() as uow:
        await contests.close_overdue(uow, clock() + dt.timedelta(minutes=10))  # after the grace
        await uow.commit()
    async with app.uow_factory() as uow:
        contest = await uow.contests.get(contest_id)
        rnd = await uow.contests.round(round_id)
        assert contest and rnd
        results = await contests.live_results(uow, contest, rnd)
    scores = {r.entry.user_id: r.entry.score for r in results.ranked}
    assert scores == {u: expected_score[u] for u, _ in joined}
    durations = {r.entry.finished_at - r.entry.started_at for r in results.ranked}
    assert durations == {live_svc.ends_at(live) - live.starts_at}  # the same for all: ties go to the prediction


async def test_answers_outside_the_open_question_change_nothing_and_are_logged(app: App, clock: FakeClock) -> None:
    contest_id, round_id, class_ids, students = await _setup(app, clock, students=6)
    live = await _start(app, clock, contest_id, round_id, class_ids)
    me, stranger = students[0][0], students[1][0]
    await _join(app, clock, live, me)
    assert await _answer(app, clock, live, me, 0, 0) == Outcome.LATE  # before the start
    clock.now = live.starts_at + dt.timedelta(seconds=30)  # question 1 is open
    assert await _answer(app, clock, live, me, 0, 0) == Outcome.LATE  # question 0 has closed
    assert await _answer(app, clock, live, me, 2, 0) == Outcome.LATE  # question 2 is not open yet
    assert await _answer(app, clock, live, stranger, 1, 0) == Outcome.FOREIGN  # never joined
    assert await _answer(app, clock, live, me, 1, 7) == Outcome.FORGED  # no option 7
    assert await _answer(app, clock, live, me, 1, 1) == Outcome.RECORDED  # question 0 was let pass
    async with app.uow_factory() as uow:
        rows = (await uow.session.execute(select(m.AttemptAnswer.seq, m.AttemptAnswer.chosen))).all()  # type: ignore[attr-defined]
        events = (await uow.session.execute(select(m.SecurityEvent.kind, m.SecurityEvent.user_id))).all()  # type: ignore[attr-defined]
    assert rows == [(1, live.questions[1][1][1])]  # the option shown second, as stored
    kinds = [k for k, _ in events]
    assert kinds.count("late") == 3 and kinds.count("foreign") == 1 and kinds.count("forged") == 1


async def test_who_may_join_and_start(app: App, clock: FakeClock) -> None:
    contest_id, round_id, class_ids, students = await _setup(app, clock, students=9)
    async with app.uow_factory() as uow:
        contest = await uow.contests.get(contest_id)
        rnd = await uow.contests.round(round_id)
        assert contest and rnd
        classes = [k for k in [await uow.classes.get(c) for c in class_ids] if k]
        with pytest.raises(ContestError) as late:
            await live_svc.start(
                uow,
                app.content,
                contest,
                rnd,
                classes,
                20,
                5,
                clock() - dt.timedelta(minutes=1),
                1,
                clock(),
                clock().date(),
            )
        assert late.value.message == live_svc.STARTS_IN_PAST
        with pytest.raises(ContestError) as timing:
            await live_svc.start(uow, app.content, contest, rnd, classes, 5, 5, clock(), 1, clock(), clock().date())
        assert timing.value.message == live_svc.BAD_TIMING
        with pytest.raises(ContestError) as none:
            await live_svc.start(uow, app.content, contest, rnd, [], 20, 5, clock(), 1, clock(), clock().date())
        assert none.value.message == live_svc.NO_CLASSES
    live = await _start(app, clock, contest_id, round_id, class_ids[:2])
    with pytest.raises(ContestError) as again:
        await _start(app, clock, contest_id, round_id, class_ids)
    assert again.value.message == live_svc.ALREADY_LIVE
    outsider = next(u for u, c in students if c == class_ids[2])
    with pytest.raises(ContestError) as other_class:
        await _join(app, clock, live, outsider)
    assert other_class.value.message == live_svc.NOT_YOUR_CLASS
    insider = next(u for u, c in students if c == class_ids[0])
    clock.now = live_svc.last_answer_at(live)
    with pytest.raises(ContestError) as over:
        await _join(app, clock, live, insider)
    assert over.value.message == live_svc.LIVE_OVER


async def test_a_restarted_process_goes_on_on_the_same_schedule(app: App, clock: FakeClock, database_url: str) -> None:
    contest_id, round_id, class_ids, students = await _setup(app, clock, students=3)
    live = await _start(app, clock, contest_id, round_id, class_ids)
    await _join(app, clock, live, students[0][0])
    clock.now = live.starts_at + dt.timedelta(seconds=26)
    assert await _answer(app, clock, live, students[0][0], 1, 0) == Outcome.RECORDED
    await app.close()
    other = build_app(
        Settings(database_url=database_url, _env_file=None),
        clock=clock,
        content=app.content,
        core_settings=CoreSettings(),
    )  # type: ignore[call-arg]
    try:
        async with other.uow_factory() as uow:
            again = await uow.live.by_round(round_id)
        assert again == live
        assert slot(again, clock()) == slot(live, clock())
        assert await _answer(other, clock, again, students[0][0], 1, 2) == Outcome.DUPLICATE
    finally:
        await other.close()
