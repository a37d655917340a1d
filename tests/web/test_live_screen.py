"""The live round from the web console: the organizer starts it for chosen classes after choosing the timing; the
big screen shows the open question, the countdown and standings equal to an independent count, pushed by
Server-Sent Events; a teacher may watch but not start; nobody sees which option is right."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import App
from bot.live import service as live_svc
from bot.live.ports import LiveRec
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import contest_def, make_contest
from tests.web.conftest import csrf_of, link_for, origin, sign_in
from tests.web.test_pages import add_students


async def _round_and_class(app: App) -> tuple[int, int, int]:
    async with app.sessions() as s:
        rid = int((await s.scalars(select(m.ContestRound.id))).one())
        contest_id = int((await s.scalars(select(m.ContestRound.contest_id))).one())
        teacher = (
            await s.scalars(select(m.User.id).where(m.User.display_name.is_not(None), m.User.role == "teacher"))
        ).first()
        class_id = int((await s.scalars(select(m.SchoolClass.id).where(m.SchoolClass.teacher_id == teacher))).first())
    return rid, contest_id, class_id


async def _register_and_join(app: App, contest_id: int, live: LiveRec, n: int) -> list[int]:
    students = await add_students(app, [f"Học Sinh {i}" for i in range(n)])
    ids = []
    async with app.uow_factory() as uow:
        for chat in students:
            user = await uow.users.by_account("telegram", chat.address.user_id)
            assert user is not None
            klass = (await uow.classes.of_student(user.id))[0]
            school = await uow.schools.get(klass.school_id)
            await uow.contests.register(
                contest_id,
                user.id,
                user.display_name or "",
                klass.school_id,
                school.name if school else "",
                klass.id,
                klass.name,
                klass.grade,
                app.clock(),
            )
            ids.append(user.id)
        await uow.commit()
    for user_id in ids:
        async with app.uow_factory() as uow:
            contest = await uow.contests.get(contest_id)
            rnd = await uow.contests.round(live.round_id)
            reg = await uow.contests.registration(contest_id, user_id)
            assert contest and rnd
            await live_svc.join(uow, app.content, live, contest, rnd, reg, user_id, app.clock(), app.clock().date())
            await uow.commit()
    return ids


async def _live(app: App, round_id: int) -> LiveRec:
    async with app.uow_factory() as uow:
        live = await uow.live.by_round(round_id)
    assert live is not None
    return live


async def _first_event(client: TestClient[Any, Any], path: str) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    while True:
        line = (await response.content.readline()).decode()
        if line.startswith("data: "):
            response.close()
            return dict(json.loads(line[6:]))


async def test_the_organizer_starts_a_live_round_and_the_big_screen_follows_it(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock(), title="Hội thi An toàn giao thông", questions=5))
    rid, contest_id, class_id = await _round_and_class(web_app)
    await sign_in(client, await link_for(web_app, "btc"))
    results = await (await client.get(f"/hoi-thi/vong/{rid}")).text()
    assert f'href="/live/{rid}/bat-dau"' in results
    form = await (await client.get(f"/live/{rid}/bat-dau")).text()
    assert f'name="class" value="{class_id}"' in form and "Bắt đầu vòng trực tiếp" in form

    bad = {"csrf": csrf_of(form), "class": str(class_id), "question": "5", "pause": "5", "minutes": "2"}
    refused = await client.post(f"/live/{rid}/bat-dau", data=bad, headers=origin(client), allow_redirects=False)
    assert refused.status == 409 and "từ 10 đến 120 giây" in await refused.text()
    async with web_app.uow_factory() as uow:
        assert await uow.live.by_round(rid) is None  # the refusal changed nothing

    good = bad | {"question": "20"}
    done = await client.post(f"/live/{rid}/bat-dau", data=good, headers=origin(client), allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == f"/live/{rid}/bat-dau"
    shown = await (await client.get(done.headers["Location"])).text()
    assert "Câu 1 bắt đầu lúc" in shown and f'href="/live/{rid}"' in shown
    again = await client.post(f"/live/{rid}/bat-dau", data=good, headers=origin(client), allow_redirects=False)
    assert again.status == 409 and "đã có một vòng trực tiếp" in await again.text()

    live = await _live(web_app, rid)
    waiting = await (await client.get(f"/live/{rid}")).text()
    assert "Sắp bắt đầu" in waiting and 'data-events="/live/' in waiting

    ids = await _register_and_join(web_app, contest_id, live, 4)
    clock.now = live.starts_at + dt.timedelta(seconds=3)
    right = 0
    for i, user_id in enumerate(ids):  # two right, one wrong, one lets the question pass
        if i == 3:
            continue
        qid, order = live.questions[0]
        question = web_app.content.question(qid)
        assert question is not None
        pos = order.index(question.answer) if i < 2 else order.index((question.answer + 1) % len(order))
        right += i < 2
        async with web_app.uow_factory() as uow:
            assert (await live_svc.answer(uow, web_app.content, live, user_id, 0, pos, clock())).outcome == "recorded"
            await uow.commit()

    screen = await (await client.get(f"/live/{rid}")).text()
    assert "Câu 1/5" in screen and question.stem in screen
    assert re.search(r'data-remaining-ms="17000"', screen)
    event = await _first_event(client, f"/live/{rid}/su-kien")
    assert event["phase"] == "question" and event["question"]["stem"] == question.stem
    assert len(event["question"]["options"]) == len(question.options)
    assert "answer" not in json.dumps(event) and "Đáp án đúng" not in json.dumps(event["classes"])

    clock.now = live.starts_at + dt.timedelta(seconds=21)  # question 1's time is over: its standings
    event = await _first_event(client, f"/live/{rid}/su-kien")
    assert event["phase"] == "pause" and event["title"] == "Bảng xếp hạng sau câu 1/5"
    (mine,) = [c for c in event["classes"] if c["joined"]]
    assert mine["joined"] == 4 and mine["rate"] == round(100 * right / 4)
    assert event["schools"][0]["joined"] == 4

    clock.now = live_svc.ends_at(live)
    response = await client.get(f"/live/{rid}/su-kien")
    body = (await response.read()).decode()  # the stream ends with the round
    assert body.count("data: ") == 1 and '"phase": "ended"' in body


async def test_a_teacher_watches_the_big_screen_but_cannot_start_a_live_round(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock(), questions=5))
    rid, _contest_id, class_id = await _round_and_class(web_app)
    await sign_in(client, await link_for(web_app, "gv"))
    assert (await client.get(f"/live/{rid}")).status == 404  # no live round yet
    assert (await client.get(f"/live/{rid}/bat-dau")).status == 403
    page = await (await client.get("/")).text()
    data = {"csrf": csrf_of(page), "class": str(class_id), "question": "20", "pause": "5", "minutes": "2"}
    refused = await client.post(f"/live/{rid}/bat-dau", data=data, headers=origin(client), allow_redirects=False)
    assert refused.status == 403
    async with web_app.uow_factory() as uow:
        assert await uow.live.by_round(rid) is None
