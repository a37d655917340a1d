"""The live round on the contest page: a student of a chosen class joins from the chat's link, answers the open
question (the first answer stands, another question is refused and logged), sends a prediction, follows the
schedule by Server-Sent Events, and cannot answer the live attempt in the chat or through the ordinary page; a
student of another class sees the ordinary page."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import App
from bot.live import service as live_svc
from bot.live.ports import LiveRec
from bot.web.server import make_web_app
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import contest_def, make_contest
from tests.web.page_helpers import add_students, api, enter, page_deps, page_link

Client = TestClient[Any, Any]


@pytest.fixture
async def page(web_app: App, aiohttp_client: Callable[..., Awaitable[Client]]) -> Client:
    return await aiohttp_client(make_web_app(page_deps(web_app)))


async def start_live(app: App, class_ids: list[int]) -> LiveRec:
    async with app.uow_factory() as uow:
        rnd = (await uow.contests.rounds((await uow.contests.all())[0].id))[0]
        contest = await uow.contests.get(rnd.contest_id)
        assert contest is not None
        classes = [k for k in [await uow.classes.get(c) for c in class_ids] if k]
        now = app.clock()
        live = await live_svc.start(
            uow, app.content, contest, rnd, classes, 20, 5, now + dt.timedelta(minutes=2), None, now, now.date()
        )
        await uow.commit()
    return live


async def demo_class(app: App) -> int:
    async with app.sessions() as s:
        teacher = (await s.scalars(select(m.User.id).where(m.User.role == "teacher"))).first()
        return int((await s.scalars(select(m.SchoolClass.id).where(m.SchoolClass.teacher_id == teacher))).first())


async def test_a_student_plays_the_live_round_on_the_page(web_app: App, page: Client, clock: FakeClock) -> None:
    await make_contest(web_app, contest_def(clock(), questions=5))
    (bình,) = await add_students(web_app, ["Trần Văn Bình"])
    live = await start_live(web_app, [await demo_class(web_app)])
    assert (await enter(page, await page_link(bình))).status == 303

    html = await (await page.get("/thi/")).text()
    assert "Vào vòng trực tiếp" in html and "mỗi câu 20 giây" in html
    status, state = await api(page, "state")
    assert (status, state["step"]) == (200, "live_join")
    status, _ = await api(page, "live/join", {})
    assert status == 200
    status, state = await api(page, "state")
    assert state["step"] == "live" and state["state"]["phase"] == "waiting"
    assert (await api(page, "live/answer", {"seq": 0, "pos": 0}))[0] == 409  # not open yet

    clock.now = live.starts_at + dt.timedelta(seconds=2)
    status, state = await api(page, "state")
    qid, order = live.questions[0]
    question = web_app.content.question(qid)
    assert question is not None
    assert state["state"]["phase"] == "question" and state["state"]["question"]["stem"] == question.stem
    assert "answer" not in json.dumps(state["state"])  # nothing says which option is right
    status, ack = await api(page, "live/answer", {"seq": 0, "pos": 1})
    assert (status, ack["status"]) == (200, "recorded") and "Đã lưu" in ack["message"]
    status, again = await api(page, "live/answer", {"seq": 0, "pos": 2})
    assert (status, again["status"]) == (200, "duplicate")  # the first answer stands
    status, early = await api(page, "live/answer", {"seq": 1, "pos": 0})
    assert (status, early["status"]) == (409, "late")
    status, said = await api(page, "live/predict", {"prediction": 7})
    assert status == 200 and "7" in said["message"]
    status, said = await api(page, "live/predict", {"prediction": 9})
    assert "dự đoán đầu tiên được giữ" in said["message"]

    html = await (await page.get("/thi/")).text()
    assert html.count('aria-pressed="true"') == 1 and "Đã lưu" in html and "Dự đoán của em: 7." in html
    response = await page.get("/thi/api/live/su-kien")
    line = ""
    while not line.startswith("data: "):
        line = (await response.content.readline()).decode()
    response.close()
    event = json.loads(line[6:])
    assert event["phase"] == "question" and event["index"] == 0 and event["remaining_ms"] == 18_000

    async with web_app.sessions() as s:
        rows = (await s.execute(select(m.AttemptAnswer.attempt_id, m.AttemptAnswer.seq, m.AttemptAnswer.chosen))).all()
        kinds = [k for (k,) in (await s.execute(select(m.SecurityEvent.kind))).all()]
    assert [(seq, chosen) for _a, seq, chosen in rows] == [(0, order[1])]
    assert kinds.count("late") == 2  # before the start, and question 1 before its time

    # The live attempt is answered on the schedule only: not through the ordinary page, not in the chat.
    attempt_id = rows[0][0]
    clock.now = live.starts_at + dt.timedelta(seconds=27)  # question 2 is open
    status, _refused = await api(page, "answer", {"attempt": attempt_id, "seq": 1, "pos": 0, "key": "k-1-abcdef"})
    assert status == 409
    await bình.say("/thi")
    assert "vòng trực tiếp" in bình.text and not any(t.startswith("contest.answer") for t, _l in bình.options)
    await bình.tap("Làm bài trên trang web")  # the chat gives the page's link again
    assert "/thi/vao?t=" in bình.text
    async with web_app.sessions() as s:
        assert len((await s.execute(select(m.AttemptAnswer.id))).all()) == 1

    clock.now = live_svc.ends_at(live)
    status, state = await api(page, "state")
    assert state["step"] == "message" and "Em đã trả lời 1/5 câu" in state["message"]


async def test_a_student_of_another_class_sees_the_ordinary_page(web_app: App, page: Client, clock: FakeClock) -> None:
    await make_contest(web_app, contest_def(clock(), questions=5))
    (an,) = await add_students(web_app, ["Lê Thị An"])
    async with web_app.uow_factory() as uow:
        school = (await uow.classes.get(await demo_class(web_app))).school_id  # type: ignore[union-attr]
        other = await uow.classes.create(school, None, "9B", 9, "2026-2027", "OTHER9B", clock())
        await uow.commit()
    await start_live(web_app, [other.id])
    assert (await enter(page, await page_link(an))).status == 303
    status, state = await api(page, "state")
    assert (status, state["step"]) == (200, "ready") and "live" not in state
    assert (await api(page, "live/join", {}))[0] == 409
