"""The whole product driven through the console channel, as a student and as a teacher."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession
from db import models as m


def option_number(screen: str, label_part: str) -> str:
    """The number or letter the console shows in front of the option containing `label_part`."""
    for line in screen.splitlines():
        match = re.match(r"^\s+([0-9]+|[A-J])\. (.*)$", line)
        if match and label_part in match.group(2):
            return match.group(1)
    raise AssertionError(f"no option with {label_part!r} in:\n{screen}")


async def onboard_student(app: App, session: ConsoleSession, code: str, name: str = "Nguyễn Văn An") -> str:
    screen = await session.send("/start")
    assert "Tiếng Việt" in screen
    screen = await session.send(option_number(screen, "Tiếng Việt"))
    assert "Em có đồng ý không?" in screen
    screen = await session.send(option_number(screen, "Em đồng ý"))
    assert "mã lớp" in screen
    screen = await session.send(code.lower())
    assert "Em đã vào lớp 7A" in screen
    screen = await session.send(name)
    assert f"Cảm ơn {name}" in screen
    return screen


async def test_student_onboards_reads_a_lesson_and_practises(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    screen = await onboard_student(app, student, demo.class_code)

    # A lesson, card after card, then its check questions.
    screen = await student.send(option_number(screen, "Học bài"))
    screen = await student.send(option_number(screen, "An toàn giao thông"))
    assert "(lower_secondary)" in screen and "(primary)" not in screen  # grade 7 gets lower-secondary lessons
    screen = await student.send("1")
    assert "(1/4)" in screen
    for card in (2, 3, 4):
        screen = await student.send(option_number(screen, "Tiếp theo"))
        assert f"({card}/4)" in screen
    assert "Khi cần giúp, em gọi 111." in screen
    screen = await student.send(option_number(screen, "Làm câu hỏi kiểm tra"))
    for _ in range(2):
        assert "Câu " in screen
        screen = await student.send(option_number(screen, "Đáp án đúng"))
    assert "Em đã hoàn thành bài" in screen and "Em đúng 2/2 câu" in screen

    async with app.sessions() as s:
        row = (await s.execute(select(m.LessonProgress))).scalar_one()
        assert row.completed_at is not None and row.check_score == 2 and row.topic == "an-toan-giao-thong"

    # A 5-question practice quiz: answer the first two wrongly, the rest rightly.
    screen = await student.send("/practice")
    screen = await student.send(option_number(screen, "ma túy"))
    for i in range(5):
        assert f"Câu {i + 1}/5" in screen
        screen = await student.send(option_number(screen, "sai một" if i < 2 else "Đáp án đúng"))
    assert "Em đúng 3/5 câu" in screen
    assert screen.count("👉 Đáp án đúng") == 2 and "📖 Điều" in screen and "Luật Thử A số 1/2020/QH14" in screen

    async with app.sessions() as s:
        attempt = (await s.execute(select(m.QuizAttempt).where(m.QuizAttempt.kind == "practice"))).scalar_one()
        answers = (await s.execute(select(m.AttemptAnswer).where(m.AttemptAnswer.attempt_id == attempt.id))).scalars()
        assert attempt.score == 3 == sum(a.correct for a in answers)


async def test_teacher_creates_a_class_and_gets_its_code(app: App) -> None:
    await seed_demo(app.uow_factory, app.clock)
    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send("/menu")
    screen = await teacher.send(option_number(screen, "Tạo lớp"))
    screen = await teacher.send("8B")
    screen = await teacher.send(option_number(screen, "8"))
    code = re.search(r"Mã lớp: ([A-Z0-9]+)", screen)
    assert code, screen
    async with app.sessions() as s:
        klass = (await s.execute(select(m.SchoolClass).where(m.SchoolClass.name == "8B"))).scalar_one()
        assert klass.join_code == code.group(1) and klass.grade == 8

    # A student can join with it; the teacher sees the student counted.
    student = ConsoleSession(app.dispatcher, user="hs9")
    await student.send("/start")
    await student.send("1")
    await student.send("1")
    screen = await student.send(code.group(1))
    assert "Em đã vào lớp 8B" in screen
    screen = await teacher.send("/classes")
    assert "8B (khối 8" in screen and "1 học sinh" in screen


async def count_rows(app: App) -> dict[str, int]:
    out = {}
    async with app.sessions() as s:
        for table in (
            m.User,
            m.Membership,
            m.SchoolClass,
            m.QuizAttempt,
            m.AttemptAnswer,
            m.LessonProgress,
            m.Invite,
            m.Consent,
        ):
            out[table.__tablename__] = (await s.execute(select(func.count()).select_from(table))).scalar_one()
    return out


async def test_bad_input_at_every_prompt_gets_a_clear_answer_and_changes_nothing(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    screen = await student.send("/start")
    before = await count_rows(app)
    for bad in ("7", "Z", "/khongco", "", "x" * 5000):
        screen = await student.send(bad)
        assert screen.strip(), f"no answer to {bad[:10]!r}"
    assert await count_rows(app) == before
    assert "Em chọn một số từ 1 đến 2" in (await student.send("9"))
    assert "Mình chưa biết lệnh /khongco" in (await student.send("/khongco"))
    assert "Em chưa gõ gì cả" in (await student.send("   "))
    assert "dài quá" in (await student.send("a" * 5000))

    screen = await student.send("1")  # Tiếng Việt
    screen = await student.send("1")  # đồng ý
    before = await count_rows(app)
    screen = await student.send("SAIMA1")
    assert "không đúng" in screen and "mã lớp" in screen
    assert await count_rows(app) == before
    screen = await student.send(demo.class_code)
    screen = await student.send("0912345678")
    assert "không có chữ số" in screen
    async with app.sessions() as s:
        assert (
            await s.execute(select(m.User.display_name).where(m.User.display_name.is_not(None)))
        ).scalars().all() == ["Ban Tổ Chức", "Cô Quản Trị", "Thầy Giáo Viên"]
    screen = await student.send("Lê Thị Bình")
    assert "Cảm ơn Lê Thị Bình" in screen

    # During a quiz: out-of-range letters, unknown words and stale picks change nothing.
    screen = await student.send("/practice")
    screen = await student.send("1")
    before = await count_rows(app)
    for bad in ("E", "9", "không biết"):
        screen = await student.send(bad)
        assert "Câu 1/5" in screen and ("Em chọn một chữ cái từ A đến C" in screen or "chưa hiểu" in screen)
    assert await count_rows(app) == before


async def test_staff_roles_come_from_invites(app: App) -> None:
    await seed_demo(app.uow_factory, app.clock)
    organizer = ConsoleSession(app.dispatcher, user="btc")
    screen = await organizer.send("/menu")
    screen = await organizer.send(option_number(screen, "Mời quản trị trường"))
    screen = await organizer.send("1")
    code = re.search(r"Mã mời quản trị trường của .*: (QT[A-Z0-9]+)", screen)
    assert code, screen
    newcomer = ConsoleSession(app.dispatcher, user="newadmin")
    screen = await newcomer.send(f"/start {code.group(1)}")
    screen = await newcomer.send("1")
    assert "quản trị trường" in screen
    screen = await newcomer.send("Trần Văn Quản")
    assert "Mời giáo viên" in screen
    # The code works once.
    other = ConsoleSession(app.dispatcher, user="other")
    await other.send(f"/start {code.group(1)}")
    screen = await other.send("1")
    assert "đã được dùng hoặc đã hết hạn" in screen
    # A student cannot reach staff actions by typing their commands.
    screen = await other.send("/newclass")
    assert "chỉ dành cho thầy cô" in screen


def test_typed_words_pick_an_option_only_by_whole_words() -> None:
    from bot.core.text import match_choice

    labels = ["Thiếu niên phải đội mũ", "Gọi 114 ngay", "Chạy thật nhanh"]
    assert match_choice("thi", labels, lettered=True) is None
    assert match_choice("gọi 114", labels, lettered=True) == 1
    assert match_choice("chạy", labels, lettered=True) == 2
    assert match_choice("B)", labels, lettered=True) == 1


async def test_a_command_word_during_a_quiz_is_a_command_not_an_answer(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    await onboard_student(app, student, demo.class_code)
    await student.send("/practice")
    screen = await student.send("1")
    assert "Câu 1/5" in screen
    screen = await student.send("trợ giúp")
    assert "111" in screen and "Câu 2/5" not in screen
    async with app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(m.AttemptAnswer))).scalar_one() == 0
