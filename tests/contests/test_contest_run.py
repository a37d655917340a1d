"""A whole contest of hundreds of students through the real dispatcher, checked against a reference computed
here from the raw stored answers (not from the app's own scores)."""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import re
from collections.abc import AsyncIterator

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import App
from bot.contests import exports
from bot.contests import service as svc
from bot.core.text import LETTERS
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import Chat, contest_def, make_contest, make_roster

GRACE = dt.timedelta(seconds=2)


class Student:
    def __init__(self, app: App, clock: FakeClock, channel: str, ext: str, user_id: int, rng: random.Random) -> None:
        self.chat = Chat(app, channel, ext)
        self.clock = clock
        self.user_id = user_id
        self.rng = rng
        self.typed = channel == "zalo"
        self.skill = 1.0 if rng.random() < 0.3 else rng.uniform(0.2, 1.0)
        roll = rng.random()
        self.plan = (
            "late" if roll < 0.05 else "vanish" if roll < 0.08 else "late_prediction" if roll < 0.10 else "normal"
        )
        self.stop_at = rng.randrange(1, 5)
        self.double = rng.random() < 0.15
        self.disconnect = rng.random() < 0.12
        self.bad_prediction = rng.random() < 0.2
        self.practice_first = rng.random() < 0.05
        self.deadline: dt.datetime | None = None
        self.resumed = 0
        self.pending_token: str | None = None
        self.finished = False

    def in_attempt_text_is_neutral(self) -> None:
        text = self.chat.text
        assert "Đúng rồi" not in text and "Chưa đúng" not in text and "Đáp án đúng:" not in text, text

    def question_no(self) -> int | None:
        found = re.findall(r"Câu (\d+)/5", self.chat.text)
        return int(found[-1]) if found else None

    async def answer(self) -> None:
        labels = [label for _t, label in self.chat.options]
        right = next(i for i, label in enumerate(labels) if label.startswith("Đáp án đúng"))
        wrong = [i for i in range(len(labels)) if i != right]
        idx = right if self.rng.random() < self.skill else self.rng.choice(wrong)
        if self.typed:
            letter = LETTERS[idx] if self.rng.random() < 0.7 else LETTERS[idx].lower() + "."
            await self.chat.say(letter)
            if self.double:
                self.double = False
                await self.chat.say(letter)  # on a text channel a second letter answers the next question
        else:
            token = self.chat.options[idx][0]
            await self.chat.tap_token(token)
            if self.double:
                self.double = False
                await self.chat.tap_token(token)  # a double tap: the old token changes nothing
                assert "đã cũ" in self.chat.text

    async def run(self, official: bool = True) -> AsyncIterator[None]:
        c = self.chat
        await c.say("thi" if self.typed else "/thi")
        if "Đăng ký dự thi" in c.text:
            assert "Họ và tên:" in c.text and "không sửa được" in c.text
            yield
            await c.tap("Đúng, em đăng ký")
        yield
        if self.practice_first:
            await c.tap("Thi thử")
            while "🔮" not in c.text:
                self.in_attempt_text_is_neutral()
                yield
                await self.answer()
            await c.say("3")
            assert "bài thi thử" in c.text
            yield
            await c.tap("Về trang hội thi")
            yield
        await c.tap("Thi chính thức")
        self.deadline = self.clock() + dt.timedelta(minutes=15)
        answered = 0
        while "🔮" not in c.text:
            self.in_attempt_text_is_neutral()
            if "Đã hết giờ" in c.text:
                return
            yield
            if self.plan in ("late", "vanish") and answered == self.stop_at:
                self.pending_token = c.options[0][0]
                return
            if self.disconnect and answered == 2 and not self.resumed:
                self.resumed = 1
                before = self.question_no()
                await c.say("/thi")
                left = int((self.deadline - self.clock()).total_seconds())
                assert "Em đang làm dở bài thi" in c.text, c.text
                assert f"còn {left // 60} phút {left % 60} giây" in c.text, (left, c.text)
                assert self.question_no() == before
                yield
            await self.answer()
            answered += 1
        if self.plan == "late_prediction":
            return
        yield
        if self.bad_prediction:
            await c.say("khoảng hai mươi")
            assert "số nguyên" in c.text
            yield
        await c.say(str(self.rng.randint(0, 120)))
        assert "Em đã nộp bài" in c.text and "câu đúng" in c.text and "Thời gian làm bài" in c.text, c.text
        self.finished = True


async def drive(students: list[Student], clock: FakeClock, rng: random.Random, pool_size: int = 25) -> None:
    """Interleave the students' actions, a few at a time, with the clock moving 0–3 s between events."""
    waiting = list(students)
    active: list[tuple[Student, AsyncIterator[None]]] = []
    while waiting or active:
        while waiting and len(active) < pool_size:
            s = waiting.pop(0)
            active.append((s, s.run()))
        i = rng.randrange(len(active))
        try:
            await anext(active[i][1])  # type: ignore[arg-type]
        except StopAsyncIteration:
            active.pop(i)
        clock.advance(seconds=rng.choice((0, 0, 1, 2, 3)))


async def reference(app: App, contest_id: int, round_id: int, d) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Ranking, prizes and the collective prize from raw rows, written independently of the app's code."""
    content = app.content
    async with app.sessions() as s:
        rows = (
            await s.execute(
                select(m.ContestEntry, m.QuizAttempt, m.ContestRegistration)
                .join(m.QuizAttempt, m.QuizAttempt.id == m.ContestEntry.attempt_id)
                .join(m.ContestRegistration, m.ContestRegistration.id == m.ContestEntry.registration_id)
                .where(m.ContestEntry.round_id == round_id, m.QuizAttempt.kind == "contest")
            )
        ).all()
        answers = (await s.execute(select(m.AttemptAnswer))).scalars().all()
        members = (await s.execute(select(m.Membership, m.SchoolClass).join(m.SchoolClass))).all()
    by_attempt: dict[int, list[m.AttemptAnswer]] = {}
    for a in answers:
        by_attempt.setdefault(a.attempt_id, []).append(a)
    entries = []
    for entry, attempt, reg in rows:
        assert attempt.finished_at is not None, "every attempt is submitted or closed at its deadline"
        assert attempt.finished_at <= attempt.deadline_at
        stored = by_attempt.get(attempt.id, [])
        assert len({a.seq for a in stored}) == len(stored) <= attempt.total
        for a in stored:
            assert a.answered_at <= attempt.deadline_at + GRACE
            assert a.question_id == attempt.questions[a.seq][0]
        score = sum(1 for a in stored if content.question(a.question_id).answer == a.chosen)
        assert attempt.score == score
        entries.append(
            (
                reg.id,
                reg.user_id,
                reg.school_id,
                score,
                attempt.total,
                entry.prediction,
                attempt.finished_at - attempt.started_at,
                attempt.finished_at,
            )
        )
    actual = sum(1 for e in entries if e[3] == e[4])

    def key(e):  # type: ignore[no-untyped-def]
        distance = abs(e[5] - actual) if e[5] is not None else float("inf")
        return (-e[3], distance, e[6], e[7], e[0])

    order = sorted(entries, key=key)
    counts = [
        ("nhat", d.prizes.nhat),
        ("nhi", d.prizes.nhi),
        ("ba", d.prizes.ba),
        ("khuyen_khich", d.prizes.khuyen_khich),
    ]
    slots = [p for p, n in counts for _ in range(n)]
    prizes = {}
    for e in order:
        if slots and e[3] >= d.prizes.min_score:
            prizes[e[1]] = slots.pop(0)
    school_members: dict[int, int] = {}
    for _ms, klass in members:
        school_members[klass.school_id] = school_members.get(klass.school_id, 0) + 1
    took_part: dict[int, set[int]] = {}
    for e in entries:
        took_part.setdefault(e[2], set()).add(e[1])
    units = sorted(
        school_members,
        key=lambda sid: (-len(took_part.get(sid, ())) / school_members[sid], -len(took_part.get(sid, ())), sid),
    )
    return {
        "actual": actual,
        "order": [e[1] for e in order],
        "prizes": prizes,
        "units": units,
        "unit_winners": units[: d.collective.top],
    }


@pytest.mark.slow
async def test_a_contest_of_hundreds_of_students_matches_the_reference(app: App, clock: FakeClock) -> None:
    rng = random.Random(20260819)
    n = int(os.environ.get("CONTEST_STUDENTS", 300 if app.settings.database_url.startswith("sqlite") else 60))
    roster = await make_roster(app, schools=3, classes_per_school=4, students=n, rng=rng, extra_members=30)
    d = contest_def(clock())
    contest_id = await make_contest(app, d)
    students = [Student(app, clock, ch, ext, uid, random.Random(rng.random())) for ch, ext, uid, _n in roster.students]
    await drive(students, clock, rng)

    # The late ones come back after their deadline: the answer is refused, logged, the attempt closed at its deadline.
    clock.advance(minutes=16)
    for s in students:
        if s.plan == "late" and s.pending_token:
            await s.chat.tap_token(s.pending_token)
            assert "Đã hết giờ" in s.chat.text, s.chat.text
        if s.plan == "late_prediction":
            await s.chat.say("17")
            assert "Đã hết giờ" in s.chat.text and "không có câu dự đoán" in s.chat.text
    assert sum(s.finished for s in students) > n * 0.8

    # The organizer watches, closes and publishes in chat.
    org = Chat(app, "console", roster.organizer)
    await org.say("/thi")
    await org.tap("Hội thi thử nghiệm")
    await org.tap("Đợt 1")
    await org.tap("Số người tham gia")
    assert all(name in org.text for name in roster.schools.values())
    await org.tap("Đóng đợt thi")
    await org.tap("✅ Đóng đợt thi")  # closing asks first
    await org.tap("Công bố kết quả")
    assert any("Xác nhận công bố" in label for _t, label in org.options) and "công bố" in org.text
    await org.tap("Xác nhận công bố")
    assert "Đã công bố kết quả" in org.text, org.text

    async with app.uow_factory() as uow:
        contest = await uow.contests.get(contest_id)
        assert contest is not None
        rnd = (await uow.contests.rounds(contest_id))[0]
        res = await svc.results(uow, contest, rnd)
    ref = await reference(app, contest_id, rnd.id, d)
    assert rnd.status == "published" and rnd.actual == ref["actual"] == res.actual
    assert [r.entry.user_id for r in res.ranked] == ref["order"]
    assert {r.entry.user_id: r.prize for r in res.ranked if r.prize} == ref["prizes"]
    assert [u.unit.id for u in res.units] == ref["units"]
    assert [u.unit.id for u in res.units if u.prize] == ref["unit_winners"]
    assert len(res.ranked) == len({s.user_id for s in students})  # everyone has exactly one official entry
    # Ties were really broken by the later criteria, and each row says which one.
    assert {r.separated_by for r in res.ranked[1:]} >= {"score", "prediction"}

    async with app.sessions() as s:
        events = (await s.execute(select(m.SecurityEvent))).scalars().all()
        notices = (await s.execute(select(m.Notice))).scalars().all()
        audit = (await s.execute(select(m.AuditLog.action))).scalars().all()
        activity = (await s.execute(select(m.Activity.kind, m.Activity.user_id, m.Activity.value))).all()
    # The participation records the reports count: one entry and one submission per official attempt,
    # one award per prize winner with its rank.
    assert sorted(u for k, u, _v in activity if k == "contest_entered") == sorted(r.entry.user_id for r in res.ranked)
    assert sorted(u for k, u, _v in activity if k == "contest_submitted") == sorted(r.entry.user_id for r in res.ranked)
    awarded = {u: v for k, u, v in activity if k == "contest_awarded"}
    assert awarded == {u: ("nhat", "nhi", "ba", "khuyen_khich").index(p) + 1 for u, p in ref["prizes"].items()}  # type: ignore[union-attr]
    late = [s for s in students if s.plan in ("late", "late_prediction")]
    assert len([e for e in events if e.kind == "late"]) == len(late) > 0
    assert sorted(x.user_id for x in notices) == sorted(ref["prizes"])  # type: ignore[arg-type]
    assert {"contest.create", "contest.close", "contest.publish"} <= set(audit)

    # A winner sees the message the next time they write.
    winner_id = next(iter(ref["prizes"]))  # type: ignore[call-overload]
    winner = next(s for s in students if s.user_id == winner_id)
    await winner.chat.say("/thi")
    assert "Chúc mừng" in winner.chat.text and "Giải" in winner.chat.text
    rank = ref["order"].index(winner_id) + 1  # type: ignore[attr-defined]
    assert f"em xếp hạng {rank}/{len(res.ranked)}" in winner.chat.text

    # The export has every tie-break column, a sheet per school and the collective ranking.
    wb = load_workbook(io.BytesIO(exports.results_xlsx(res)))
    header = [c.value for c in wb["Xếp hạng"][1]]
    assert header == list(exports.COLUMNS)
    assert wb["Xếp hạng"].max_row == len(res.ranked) + 1
    assert set(roster.schools.values()) <= set(wb.sheetnames) and "Giải tập thể" in wb.sheetnames
