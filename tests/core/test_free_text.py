"""Free text through the real dispatcher: a child in distress gets the hotlines at once, wherever they are (a
quiz, a contest attempt, a text step), and nothing they were doing is lost; intents start their flow; anything
else gets a short help with the menu. Only an anonymous count is kept, never the text."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.accounts.seed import seed_demo
from bot.app import App, build_app
from bot.channels.console.app import ConsoleSession
from bot.config import Settings
from bot.content.loader import load_content
from bot.core import activity
from bot.core.context import CoreSettings
from bot.core.flood import FloodGuard, FloodRule
from bot.core.safety import DISTRESS_REF
from db import models as m
from db.base import Base
from tests.conftest import FakeClock
from tests.contests.helpers import Chat, contest_def, make_contest, make_roster
from tests.core.test_console_flows import onboard_student, option_number
from tests.fakes.content import write_test_content

DISTRESS = "em bị các bạn đánh, em sợ lắm"


def assert_hotlines(screen: str) -> None:
    assert "111 – Tổng đài quốc gia bảo vệ trẻ em" in screen
    assert "gọi 113 (Công an) hoặc 112" in screen
    assert "thầy cô phụ trách tư vấn tâm lý của trường" in screen
    assert "chưa hiểu" not in screen


async def distress_counted(app: App) -> list[tuple[str, int | None, str | None]]:
    async with app.sessions() as s:
        rows = (await s.execute(select(m.Activity).where(m.Activity.ref == DISTRESS_REF))).scalars()
        return [(r.kind, r.user_id, r.ref) for r in rows]


async def stored_text(app: App) -> str:
    """Every value of every row, as one string: the typed text must be in none of them."""
    out = []
    async with app.sessions() as s:
        for table in Base.metadata.sorted_tables:
            out += [repr(tuple(row)) for row in (await s.execute(select(table))).all()]
    return "\n".join(out)


async def attempt_state(app: App, kind: str) -> tuple[object, ...]:
    async with app.sessions() as s:
        attempt = (await s.execute(select(m.QuizAttempt).where(m.QuizAttempt.kind == kind))).scalar_one()
        answers = (await s.execute(select(m.AttemptAnswer).where(m.AttemptAnswer.attempt_id == attempt.id))).scalars()
        return (
            attempt.score,
            attempt.finished_at,
            attempt.deadline_at,
            tuple(sorted((a.seq, a.chosen, a.correct) for a in answers)),
        )


async def test_a_child_in_distress_gets_the_hotlines_and_only_a_count_is_kept(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    await onboard_student(app, student, demo.class_code)

    screen = await student.send(DISTRESS)
    assert_hotlines(screen)
    assert "Xem tất cả số điện thoại khẩn cấp" in screen
    assert_hotlines(await student.send("cuuuu e voiii"))
    assert_hotlines(await student.send("EM MUON CHET"))

    assert await distress_counted(app) == [(activity.HELP_VIEWED, None, DISTRESS_REF)] * 3
    stored = await stored_text(app)
    for typed in ("sợ lắm", "các bạn đánh", "cuuuu", "MUON CHET"):
        assert typed not in stored


async def test_intents_start_their_flow_and_other_text_gets_a_short_help(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    await onboard_student(app, student, demo.class_code)

    assert "📚 Em muốn học chủ đề nào?" in await student.send("em muốn học bài ạ")
    await student.send("/menu")
    assert "✍️ Em muốn luyện tập chủ đề nào?" in await student.send("cho e luyen tap di")
    await student.send("/menu")
    assert "Em đã ở trong lớp 7A" in await student.send(f"cho em vào lớp {demo.class_code} nhé")

    await student.send("/menu")
    screen = await student.send("hôm nay trời đẹp quá")
    assert "Mình chưa hiểu ý em. Em có thể gõ “học bài”" in screen
    assert "Học bài" in screen and "Hội thi" in screen  # the menu, to pick from
    assert "111" not in screen
    await student.send("/trogiup")
    screen = await student.send("abc xyz")  # after the long help: the short one, not the long one again
    assert "hoặc chọn một việc dưới đây:" in screen and "Mình giúp em học bài" not in screen


async def test_distress_in_a_practice_quiz_keeps_the_quiz(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    await onboard_student(app, student, demo.class_code)
    screen = await student.send("/practice")
    screen = await student.send(option_number(screen, "ma túy"))
    screen = await student.send(option_number(screen, "Đáp án đúng"))
    assert "Câu 2/5" in screen
    before = await attempt_state(app, "practice")

    screen = await student.send("có người rủ em hút, em sợ quá")
    assert_hotlines(screen)
    assert "Khi em sẵn sàng, mình làm tiếp việc đang dở nhé:" in screen and "Câu 2/5" in screen
    assert await attempt_state(app, "practice") == before

    screen = await student.send(option_number(screen, "Đáp án đúng"))  # the question shown again still counts
    assert "Câu 3/5" in screen
    _score, _finished, _deadline, answers = await attempt_state(app, "practice")
    assert [(seq, correct) for seq, _chosen, correct in answers] == [(0, True), (1, True)]


async def test_distress_in_a_contest_attempt_keeps_the_attempt_and_its_buttons(app: App, clock: FakeClock) -> None:
    roster = await make_roster(app, 1, 1, 1, random.Random(21))
    await make_contest(app, contest_def(clock()))
    ch, ext, _uid, _name = roster.students[0]
    chat = Chat(app, ch, ext)
    await chat.start_official()
    clock.advance(seconds=9)
    await chat.tap("Đáp án đúng")
    assert "Câu 2/5" in chat.text
    old_options = list(chat.options)
    before = await attempt_state(app, "contest")

    clock.advance(seconds=5)
    await chat.say("cứu em với, em bị bắt nạt")
    assert_hotlines(chat.text)
    assert "Câu 2/5" in chat.text
    assert chat.options == old_options  # the same buttons: one tapped on the earlier message still counts
    assert await attempt_state(app, "contest") == before

    clock.advance(seconds=9)
    await chat.tap_token(next(token for token, label in old_options if "Đáp án đúng" in label))
    assert "Câu 3/5" in chat.text
    _score, finished, _deadline, answers = await attempt_state(app, "contest")
    assert finished is None and [(seq, correct) for seq, _c, correct in answers] == [(0, True), (1, True)]


async def test_distress_at_a_text_step_then_the_step_goes_on(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    screen = await student.send("/start")
    screen = await student.send(option_number(screen, "Tiếng Việt"))
    screen = await student.send(option_number(screen, "Em đồng ý"))
    screen = await student.send(demo.class_code)
    assert "Em gõ họ và tên" in screen

    screen = await student.send("cứu em")
    assert_hotlines(screen)
    assert "Em gõ họ và tên" in screen  # asked again, not taken as a name
    assert "Cảm ơn Nguyễn Văn An" in await student.send("Nguyễn Văn An")


async def test_staff_typing_into_a_step_are_writing_not_telling(app: App) -> None:
    await seed_demo(app.uow_factory, app.clock)
    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send("/newclass")
    assert "Thầy/cô gõ tên lớp" in screen
    screen = await teacher.send("Bị bắt nạt")
    assert "Lớp Bị bắt nạt thuộc khối mấy?" in screen and "111" not in screen


async def test_a_first_message_in_distress_gets_the_hotlines_before_any_start(app: App) -> None:
    stranger = ConsoleSession(app.dispatcher, user="hs7")
    screen = await stranger.send("cứu em với, có người lạ đi theo em")
    assert_hotlines(screen)
    assert await distress_counted(app) == [(activity.HELP_VIEWED, None, DISTRESS_REF)]


async def test_in_english_the_hotlines_keep_their_numbers(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    await onboard_student(app, student, demo.class_code)
    await student.send("/language")
    await student.send("2")  # English
    screen = await student.send("em bi danh")
    assert "Call 111 now – National child protection hotline" in screen and "call 113 (Police) or 112" in screen


BULLIED = "Kể ngay với thầy cô khi bị bắt nạt"


@pytest.fixture
async def app_with_a_bullying_answer(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[App]:
    """The test content, with the right answer of every drug question reading like a child's distress."""
    root = write_test_content(tmp_path / "content")
    bank = root / "quizzes" / "ma-tuy.yaml"
    data = yaml.safe_load(bank.read_text(encoding="utf-8"))
    for i, q in enumerate(data["questions"]):
        q["options"][0] = f"{BULLIED} {i}"
    bank.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    content = load_content(root)
    assert content.ok, content.errors
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    application = build_app(settings, clock=clock, content=content, core_settings=CoreSettings())
    async with application.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    try:
        yield application
    finally:
        await application.close()


async def test_an_option_typed_whole_is_an_answer_not_distress(app_with_a_bullying_answer: App) -> None:
    app = app_with_a_bullying_answer
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    await onboard_student(app, student, demo.class_code)
    screen = await student.send("/practice")
    screen = await student.send(option_number(screen, "ma túy"))
    label = next(line.split(". ", 1)[1] for line in screen.splitlines() if BULLIED in line)

    screen = await student.send(label)  # on Zalo, typing the words of an option answers it
    assert "Câu 2/5" in screen and "111" not in screen
    assert await distress_counted(app) == []
    # The same words in the child's own sentence are distress.
    assert_hotlines(await student.send("em bị bắt nạt, em sợ"))


async def test_over_the_flood_limit_distress_still_gets_the_hotlines_once_per_burst(app: App) -> None:
    app.dispatcher.flood = FloodGuard(FloodRule(events=3, seconds=2))
    student = ConsoleSession(app.dispatcher, user="hs8")
    for _ in range(3):
        await student.send("/help")  # the clock does not move: a burst
    assert "chậm lại" in await student.send("abc")  # over the limit: the usual notice
    assert_hotlines(await student.send("cứu em với"))  # distress is still answered
    assert await student.send("cứu em với") == ""  # once per burst: no reply storm
    assert await distress_counted(app) == []  # nothing is written for an event over the limit


async def test_a_parent_is_answered_as_a_parent(app: App) -> None:
    async with app.uow_factory() as uow:
        parent = await uow.users.create("console", "ph", "ph", "vi", app.clock(), role="parent")
        await uow.users.update(parent.id, display_name="Phụ Huynh", onboarded=True)
        await uow.commit()
    screen = await ConsoleSession(app.dispatcher, user="ph").send("con tôi bị bạn đánh ở trường")
    assert "Nếu con anh/chị đang gặp nguy hiểm" in screen and "gọi 111" in screen and "113" in screen
    assert "Cảm ơn em" not in screen and "thầy/cô có thể" not in screen
