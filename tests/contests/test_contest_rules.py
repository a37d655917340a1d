"""Contest rules one at a time: consent, registration snapshot, one official attempt, rejected answers, resume."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from bot.app import App
from bot.contests import service as svc
from bot.core.events import IncomingEvent
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import Chat, contest_def, make_contest, make_roster


async def test_guardian_consent_is_required_before_registration(app: App) -> None:
    roster = await make_roster(app, 1, 1, 1, random.Random(1), guardian=False)
    await make_contest(app, contest_def(app.clock()))
    ch, ext, _uid, _name = roster.students[0]
    chat = Chat(app, ch, ext)
    await chat.say("/thi")
    assert "bố mẹ (người giám hộ) của em cần đồng ý trước" in chat.text
    async with app.sessions() as s:
        assert (await s.execute(select(m.ContestRegistration))).first() is None


async def test_registration_is_a_snapshot_and_one_official_attempt_only(app: App, clock: FakeClock) -> None:
    roster = await make_roster(app, 1, 1, 1, random.Random(2))
    await make_contest(app, contest_def(clock()))
    ch, ext, uid, name = roster.students[0]
    chat = Chat(app, ch, ext)
    await chat.say("/thi")
    assert f"Họ và tên: {name}" in chat.text and "Lớp: 6A" in chat.text and "Trường THCS Số 1 Đông Hòa" in chat.text
    await chat.tap("Đúng, em đăng ký")
    await chat.tap("Thi chính thức")
    async with app.uow_factory() as uow:
        await uow.users.update(uid, display_name="Tên Khác Hẳn")
        await uow.commit()
    for _ in range(5):
        clock.advance(seconds=10)
        await chat.tap("Đáp án đúng")
        assert "Đúng rồi" not in chat.text
    await chat.say("7")
    assert "Kết quả: 5/5 câu đúng" in chat.text and "Thời gian làm bài: 0 phút 50 giây" in chat.text
    await chat.tap("Về trang hội thi")
    assert f"Thí sinh: {name}" in chat.text and "còn 0 lượt" in chat.text
    assert all("Thi chính thức" not in label for _t, label in chat.options)
    async with app.sessions() as s:
        reg = (await s.execute(select(m.ContestRegistration))).scalar_one()
        assert reg.display_name == name and reg.locked_at is not None
        assert len((await s.execute(select(m.ContestEntry))).scalars().all()) == 1


async def test_rejected_answers_change_nothing_and_are_logged(app: App, clock: FakeClock) -> None:
    roster = await make_roster(app, 1, 1, 2, random.Random(3))
    await make_contest(app, contest_def(clock()))
    (ch1, ext1, uid1, _), (ch2, ext2, uid2, _) = roster.students
    a, b = Chat(app, ch1, ext1), Chat(app, ch2, ext2)
    await a.start_official()
    await b.start_official()
    await a.tap("Đáp án đúng")
    async with app.sessions() as s:
        att_a, att_b = (await s.execute(select(m.QuizAttempt.id).order_by(m.QuizAttempt.id))).scalars().all()
    now = clock()
    async with app.uow_factory() as uow:
        cases = [
            (uid2, att_a, 1, 0, svc.Outcome.FOREIGN),  # another student's attempt
            (uid1, att_a, 3, 0, svc.Outcome.FORGED),  # a question not shown yet
            (uid1, att_a, 1, 7, svc.Outcome.FORGED),  # an option out of range
            (uid1, att_a, 0, 1, svc.Outcome.DUPLICATE),  # the first answer stands
            (uid1, 999_999, 0, 0, svc.Outcome.FOREIGN),
        ]
        for user_id, attempt_id, seq, pos, expected in cases:
            res = await svc.submit_answer(uow, app.content, user_id, attempt_id, seq, pos, now)
            assert res.outcome is expected
        await uow.commit()
    clock.advance(minutes=15, seconds=3)
    await b.tap("Đáp án đúng")  # after deadline + grace
    assert "Đã hết giờ" in b.text and "Kết quả: 0/5" in b.text
    async with app.sessions() as s:
        answers = (await s.execute(select(m.AttemptAnswer))).scalars().all()
        kinds = sorted(e.kind for e in (await s.execute(select(m.SecurityEvent))).scalars())
        att = await s.get(m.QuizAttempt, att_b)
        assert att is not None and att.finished_at == att.deadline_at and att.score == 0
    assert [(x.attempt_id, x.seq, x.correct) for x in answers] == [(att_a, 0, True)]
    assert kinds == ["foreign", "foreign", "forged", "forged", "late"]
    # The reconciler submits the other attempt at its deadline, as if time ran out.
    async with app.uow_factory() as uow:
        assert await svc.close_overdue(uow, clock()) == 1
        await uow.commit()
    async with app.sessions() as s:
        att = await s.get(m.QuizAttempt, att_a)
        assert att is not None and att.finished_at == att.deadline_at and att.score == 1
    await a.tap("Đáp án đúng")
    assert "đã cũ" in a.text or "đã kết thúc" in a.text


async def test_resume_shows_the_true_remaining_time(app: App, clock: FakeClock) -> None:
    roster = await make_roster(app, 1, 1, 1, random.Random(4))
    await make_contest(app, contest_def(clock()))
    ch, ext, _uid, _name = roster.students[0]
    chat = Chat(app, ch, ext)
    await chat.start_official()
    assert "Câu 1/5 · ⏳ còn 15 phút 0 giây" in chat.text
    clock.advance(minutes=4, seconds=10)
    await chat.tap("Đáp án sai")
    clock.advance(minutes=2, seconds=5)
    await chat.say("thi")  # typed on Zalo; also what a reconnecting student does
    assert "Em đang làm dở bài thi" in chat.text and "Câu 2/5 · ⏳ còn 8 phút 45 giây" in chat.text
    for _ in range(4):
        await chat.say("A")
    assert "🔮" in chat.text
    await chat.say("1")  # a number, not option A of the last question
    assert "Em đã nộp bài" in chat.text and "Dự đoán của em: 1." in chat.text


async def test_scope_keeps_other_grades_out(app: App, clock: FakeClock) -> None:
    roster = await make_roster(app, 1, 1, 1, random.Random(5))
    await make_contest(app, contest_def(clock(), scope={"grades": [9]}))
    ch, ext, _uid, _name = roster.students[0]
    chat = Chat(app, ch, ext)
    await chat.say("/thi")
    assert "chưa có hội thi nào đang mở" in chat.text


async def test_organizer_makes_a_minimal_contest_in_chat(app: App, clock: FakeClock) -> None:
    await make_roster(app, 1, 1, 0, random.Random(6))
    org = Chat(app, "console", "btc")
    await org.say("/thi")
    await org.tap("Tạo hội thi mới")
    await org.say("Hội thi an toàn giao thông tháng 12")
    await org.tap("3 ngày")
    assert "Đã tạo hội thi" in org.text and "Đợt 1" in org.text and "đang mở" in org.text
    async with app.sessions() as s:
        rnd = (await s.execute(select(m.ContestRound))).scalar_one()
        assert rnd.closes_at - rnd.opens_at == dt.timedelta(days=3)
        assert "contest.create" in (await s.execute(select(m.AuditLog.action))).scalars().all()


async def test_a_scripted_attempt_is_flagged_for_review_not_banned(app: App, clock: FakeClock) -> None:
    roster = await make_roster(app, 1, 1, 2, random.Random(8))
    contest_id = await make_contest(app, contest_def(clock()))
    bot, human = (Chat(app, ch, ext) for ch, ext, _u, _n in roster.students)
    for chat, pause in ((bot, 0.2), (human, 9.0)):
        await chat.start_official()
        for _ in range(5):
            clock.advance(seconds=pause)
            await chat.tap("Đáp án đúng")
        await chat.say("2")
    async with app.uow_factory() as uow:
        contest = await uow.contests.get(contest_id)
        assert contest is not None
        res = await svc.results(uow, contest, (await uow.contests.rounds(contest_id))[0])
    flagged_users = {r.entry.user_id for r in res.ranked if r.entry.attempt_id in res.flagged}
    assert flagged_users == {roster.students[0][2]}
    assert res.ranked[0].entry.user_id == roster.students[0][2]  # flags never change the ranking by themselves


def test_each_attempt_draws_its_own_questions_and_order(app: App) -> None:
    d = contest_def(dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    draws = {
        tuple(q.id for q in svc.draw_questions(app.content, d, dt.date(2026, 11, 28), None, random.Random(seed)))
        for seed in range(100)
    }
    assert len(draws) > 90 and all(len(set(x)) == len(x) == 5 for x in draws)
    mixed = contest_def(dt.datetime(2026, 11, 28, tzinfo=dt.UTC), mix={"topics": ["ma-tuy"], "difficulty": {3: 2}})
    for seed in range(20):
        qs = svc.draw_questions(app.content, mixed, dt.date(2026, 11, 28), None, random.Random(seed))
        assert all(app.content.question_topic[q.id] == "ma-tuy" for q in qs)
        assert sum(q.difficulty == 3 for q in qs) >= 2


async def test_concurrent_identical_taps_store_one_answer(app: App, clock: FakeClock) -> None:
    import asyncio

    roster = await make_roster(app, 1, 1, 1, random.Random(10))
    await make_contest(app, contest_def(clock()))
    ch, ext, _uid, _name = roster.students[0]
    chat = Chat(app, ch, ext)
    await chat.start_official()
    token = chat.token("Đáp án đúng")
    event = IncomingEvent.choice(chat.address, token)
    results = await asyncio.gather(*(app.dispatcher.handle(event) for _ in range(4)), return_exceptions=True)
    assert not [r for r in results if isinstance(r, BaseException)]
    async with app.sessions() as s:
        answers = (await s.execute(select(m.AttemptAnswer))).scalars().all()
    assert [(a.seq, a.correct) for a in answers] == [(0, True)]
    texts = [r.text for replies in results for r in replies]  # type: ignore[union-attr]
    assert sum("Câu 2/5" in t for t in texts) >= 1


async def test_teachers_are_told_the_contest_is_for_students(app: App) -> None:
    from bot.accounts.seed import seed_demo

    await seed_demo(app.uow_factory, app.clock)
    teacher = Chat(app, "console", "gv")
    await teacher.say("thi")
    assert "Hội thi dành cho học sinh" in teacher.text
