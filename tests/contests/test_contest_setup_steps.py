"""The once-per-attempt steps of a contest (/thi, the registration, the start, the prediction): what they store,
and how many SQL statements each takes, so that a query added to one of them is a decision, not an accident.
(In the hot-path benchmark, counting BEGIN and the inbox's mark, they went from 20, 14, 15 and 16 statements to
12, 9, 10 and 9 when each row came to be read once.)"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select, update

from bot.app import App
from bot.core import activity as a
from db import fast
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import Chat, contest_def, make_contest, make_roster

# Statements (SELECT, INSERT, UPDATE, DELETE) each step may take with `Dispatcher.handle` (no inbox). The /thi
# budget includes the two extra reads of a user's very first event and the one-time read of the definition.
# /thi before registering and the registration read the student's roster row (the name the school spells), once.
# The round's page (after the registration) and the official start read the round's live round, if any, once: a
# class that takes the round live keeps its official attempt for it, and its page says so.
BUDGET = {"thi": 12, "register": 9, "go": 9, "prediction": 7}


@contextmanager
def counting(app: App) -> Iterator[Counter[str]]:
    seen: Counter[str] = Counter()

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        word = statement.split(None, 1)[0].upper()
        if word in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            seen[word] += 1

    def count_fast(statement: str) -> None:  # statements on SQLite's fast path bypass the cursor events
        count(None, None, statement)

    event.listen(app.engine.sync_engine, "before_cursor_execute", count)
    fast.observers.append(count_fast)
    try:
        yield seen
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", count)
        fast.observers.remove(count_fast)


async def test_setup_steps_store_the_attempt_with_few_statements(app: App, clock: FakeClock) -> None:
    roster = await make_roster(app, 2, 2, 1, random.Random(5))
    contest_id = await make_contest(app, contest_def(clock()))
    ch, ext, uid, name = roster.students[0]
    # The student moved to another school's class later: records go to the latest class and its school.
    async with app.sessions() as s:
        first_class = (await s.execute(select(m.Membership.class_id).where(m.Membership.user_id == uid))).scalar_one()
    first_school = roster.classes[first_class][0]
    latest = next(c for c, (school, _n) in roster.classes.items() if school != first_school)
    latest_school, latest_name = roster.classes[latest]
    clock.advance(minutes=1)
    async with app.uow_factory() as uow:
        assert await uow.classes.add_member(uid, latest, clock())
        await uow.commit()

    chat = Chat(app, ch, ext)
    used: dict[str, int] = {}
    with counting(app) as seen:
        await chat.say("/thi")
    used["thi"] = sum(seen.values())
    assert f"Họ và tên: {name}" in chat.text and f"Lớp: {latest_name}" in chat.text
    assert roster.schools[latest_school] in chat.text
    with counting(app) as seen:
        await chat.tap("Đúng, em đăng ký")
    used["register"] = sum(seen.values())
    assert "Em đã đăng ký dự thi" in chat.text and f"Thí sinh: {name} – lớp {latest_name}" in chat.text
    assert "Em còn 1 lượt thi chính thức" in chat.text
    clock.advance(seconds=5)
    started = clock()
    with counting(app) as seen:
        await chat.tap("Thi chính thức")
    used["go"] = sum(seen.values())
    assert "Bắt đầu bài thi chính thức: 5 câu, 15 phút" in chat.text and "Câu 1/5" in chat.text
    for i in range(5):
        clock.advance(seconds=10)
        wrong = next(t for t, label in chat.options if not label.startswith("Đáp án đúng"))
        await (chat.tap("Đáp án đúng") if i != 2 else chat.tap_token(wrong))
    assert "dự đoán" in chat.text
    clock.advance(seconds=3)
    with counting(app) as seen:
        await chat.say("42")
    used["prediction"] = sum(seen.values())
    assert "Em đã nộp bài" in chat.text and "Kết quả: 4/5 câu đúng" in chat.text
    assert "Thời gian làm bài: 0 phút 53 giây" in chat.text and "Dự đoán của em: 42" in chat.text

    async with app.sessions() as s:
        reg = (await s.execute(select(m.ContestRegistration))).scalar_one()
        assert (reg.user_id, reg.display_name, reg.class_id, reg.school_id) == (uid, name, latest, latest_school)
        assert reg.locked_at == started
        entry = (await s.execute(select(m.ContestEntry))).scalar_one()
        assert (entry.registration_id, entry.official_no, entry.official_round_id) == (reg.id, 1, entry.round_id)
        assert entry.prediction == 42
        attempt = (await s.execute(select(m.QuizAttempt))).scalar_one()
        assert (attempt.id, attempt.kind, attempt.score, attempt.total) == (entry.attempt_id, "contest", 4, 5)
        assert (attempt.started_at, attempt.finished_at) == (started, clock())
        rows = (await s.execute(select(m.Activity).order_by(m.Activity.id))).scalars().all()
        assert [(r.kind, r.user_id, r.school_id, r.class_id, r.ref, r.value) for r in rows] == [
            (a.CONTEST_ENTERED, uid, latest_school, latest, str(contest_id), None),
            (a.CONTEST_SUBMITTED, uid, latest_school, latest, str(contest_id), 4),
        ]
    assert all(used[k] <= BUDGET[k] for k in BUDGET), (used, BUDGET)


async def test_a_second_registration_tap_keeps_the_first(app: App, clock: FakeClock) -> None:
    roster = await make_roster(app, 1, 1, 1, random.Random(6))
    await make_contest(app, contest_def(clock()))
    ch, ext, uid, name = roster.students[0]
    chat = Chat(app, ch, ext)
    await chat.say("/thi")
    token = chat.token("Đúng, em đăng ký")
    async with app.sessions() as s:
        form = (await s.execute(select(m.Conversation.prompt).where(m.Conversation.user_id == uid))).scalar_one()
    await chat.tap_token(token)
    assert f"Thí sinh: {name}" in chat.text
    # The form answered again (as by a second process holding the old prompt), after a change of name.
    async with app.sessions() as s:
        await s.execute(update(m.Conversation).where(m.Conversation.user_id == uid).values(prompt=form))
        await s.execute(update(m.User).where(m.User.id == uid).values(display_name="Tên Khác Hẳn"))
        await s.commit()
    await chat.tap_token(token)
    assert "Em đã đăng ký dự thi" in chat.text and f"Thí sinh: {name}" in chat.text
    async with app.sessions() as s:
        assert (await s.execute(select(m.ContestRegistration.display_name))).scalars().all() == [name]
