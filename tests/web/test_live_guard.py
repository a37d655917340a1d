"""A class that takes a round live keeps its official attempt for the live round: until the live round can no longer
be joined, its students are refused the ordinary official attempt in the chat and on the contest page (nothing is
stored, the way to the live round is shown), practice stays open, and students of other classes are not touched.
Once the live round is over, a student of the class who did not take part takes the ordinary official attempt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.app import App
from bot.core import activity
from bot.core.clock import vn_time
from bot.live import service as live_svc
from bot.live.ports import LiveRec
from bot.web.server import make_web_app
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import contest_def, make_contest
from tests.web.page_helpers import add_students, api, enter, page_deps, page_link
from tests.web.test_live_page import demo_class, start_live

Client = TestClient[Any, Any]


@pytest.fixture
async def page(web_app: App, aiohttp_client: Callable[..., Awaitable[Client]]) -> Client:
    return await aiohttp_client(make_web_app(page_deps(web_app)))


async def stored(app: App) -> dict[str, Any]:
    """What an official start writes: attempts (with their refs), entries, the registration's lock, the record."""
    async with app.sessions() as s:
        attempts = (await s.execute(select(m.QuizAttempt.user_id, m.QuizAttempt.kind, m.QuizAttempt.ref))).all()
        entries = (await s.execute(select(func.count(m.ContestEntry.id)))).scalar_one()
        locked = (
            await s.execute(select(func.count()).where(m.ContestRegistration.locked_at.is_not(None)))
        ).scalar_one()
        entered = (
            await s.execute(select(func.count()).where(m.Activity.kind == activity.CONTEST_ENTERED))
        ).scalar_one()
    return {"attempts": [tuple(a) for a in attempts], "entries": entries, "locked": locked, "entered": entered}


NOTHING = {"attempts": [], "entries": 0, "locked": 0, "entered": 0}


def starts(live: LiveRec) -> str:
    return f"bắt đầu lúc {vn_time(live.starts_at, '%H:%M')} ngày {vn_time(live.starts_at, '%d/%m')}"


async def test_a_student_of_a_live_class_is_refused_the_ordinary_attempt_in_the_chat(
    web_app: App, page: Client, clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock(), questions=5))
    (bình,) = await add_students(web_app, ["Trần Văn Bình"])
    await bình.say("/thi")
    await bình.tap("Đúng, em đăng ký")
    official = bình.token("Thi chính thức")  # shown before the live round was scheduled
    live = await start_live(web_app, [await demo_class(web_app)])
    clock.advance(minutes=1)  # the live round has not started yet
    await bình.tap_token(official)
    assert "Lớp em thi đợt này cùng nhau trong vòng trực tiếp" in bình.text
    assert starts(live) in bình.text  # in Vietnam time
    assert "Làm bài trên trang web" in bình.text
    labels = [label for _t, label in bình.options]
    assert labels == ["🌐 Làm bài trên trang web", "✍️ Thi thử (không tính điểm)", "⬅️ Về menu"]
    assert await stored(web_app) == NOTHING  # no attempt, no entry, the registration still editable

    # The round's page now says so at once, with the page first and no official attempt here, even once the live
    # round has begun.
    clock.now = live.starts_at + dt.timedelta(seconds=30)
    await bình.say("/thi")
    assert "Lớp em thi đợt này cùng nhau trong vòng trực tiếp" in bình.text and starts(live) in bình.text
    assert "Em còn 1 lượt thi chính thức." in bình.text
    labels = [label for _t, label in bình.options]
    assert labels == ["🌐 Làm bài trên trang web", "✍️ Thi thử (không tính điểm)", "⬅️ Về menu"]
    assert await stored(web_app) == NOTHING

    # The button leads to the page, where the live round is joined with the official attempt kept for it.
    await bình.tap("Làm bài trên trang web")
    assert "/thi/vao?t=" in bình.text
    assert (await enter(page, await page_link(bình))).status == 303
    status, state = await api(page, "state")
    assert (status, state["step"]) == (200, "live_join")
    assert (await api(page, "live/join", {}))[0] == 200
    after = await stored(web_app)
    assert [kind for _u, kind, _r in after["attempts"]] == ["contest"]
    assert after["attempts"][0][2].endswith(":live") and after["entries"] == 1


async def test_practice_stays_open_to_a_live_class(web_app: App, clock: FakeClock) -> None:
    await make_contest(web_app, contest_def(clock(), questions=5))
    (bình,) = await add_students(web_app, ["Trần Văn Bình"])
    await start_live(web_app, [await demo_class(web_app)])
    await bình.say("/thi")
    await bình.tap("Đúng, em đăng ký")
    await bình.tap("Thi thử")
    assert "Bắt đầu bài thi thử" in bình.text
    assert [kind for _u, kind, _r in (await stored(web_app))["attempts"]] == ["contest_practice"]


async def test_the_contest_page_refuses_the_ordinary_attempt_to_a_live_class(
    web_app: App, page: Client, clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock(), questions=5))
    (bình,) = await add_students(web_app, ["Trần Văn Bình"])
    live = await start_live(web_app, [await demo_class(web_app)])
    assert (await enter(page, await page_link(bình))).status == 303
    status, refused = await api(page, "start", {"official": True})  # e.g. a page opened before the live round
    assert status == 409
    assert "Lớp em thi đợt này cùng nhau trong vòng trực tiếp" in refused["error"]
    assert starts(live) in refused["error"] and "Vào vòng trực tiếp" in refused["error"]
    assert await stored(web_app) == NOTHING
    status, state = await api(page, "state")
    assert (status, state["step"]) == (200, "live_join")  # the page still offers the live round

    assert (await api(page, "start", {"official": False}))[0] == 200  # practice is not the live round's business
    assert [kind for _u, kind, _r in (await stored(web_app))["attempts"]] == ["contest_practice"]


async def test_students_of_other_classes_start_as_before(web_app: App, page: Client, clock: FakeClock) -> None:
    await make_contest(web_app, contest_def(clock(), questions=5))
    an, bình = await add_students(web_app, ["Lê Thị An", "Trần Văn Bình"])
    async with web_app.uow_factory() as uow:
        school = (await uow.classes.get(await demo_class(web_app))).school_id  # type: ignore[union-attr]
        other = await uow.classes.create(school, None, "9B", 9, "2026-2027", "OTHER9B", clock())
        await uow.commit()
    await start_live(web_app, [other.id])
    await an.start_official()
    assert "Bắt đầu bài thi chính thức" in an.text and "Câu 1/5" in an.text
    assert (await enter(page, await page_link(bình))).status == 303
    status, _ok = await api(page, "start", {"official": True})
    assert status == 200
    status, state = await api(page, "state")
    assert state["step"] == "attempt" and state["official"] is True
    after = await stored(web_app)
    assert sorted(kind for _u, kind, _r in after["attempts"]) == ["contest", "contest"]
    assert all(ref is not None and not ref.endswith(":live") for _u, _k, ref in after["attempts"])
    assert after["entries"] == 2 and after["entered"] == 2


async def test_once_the_live_round_is_over_a_student_who_missed_it_takes_the_ordinary_attempt(
    web_app: App, page: Client, clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock(), questions=5))
    bình, cúc, dũng = await add_students(web_app, ["Trần Văn Bình", "Phạm Thị Cúc", "Võ Minh Dũng"])
    live = await start_live(web_app, [await demo_class(web_app)])
    assert (await enter(page, await page_link(bình))).status == 303
    assert (await api(page, "live/join", {}))[0] == 200  # Bình takes part; Cúc and Dũng are away that day
    await cúc.say("/thi")
    await cúc.tap("Đúng, em đăng ký")

    clock.now = live_svc.last_answer_at(live) - dt.timedelta(seconds=1)  # the last question is still open
    await cúc.say("/thi")
    assert "vòng trực tiếp" in cúc.text and not any("Thi chính thức" in label for _t, label in cúc.options)
    assert len((await stored(web_app))["attempts"]) == 1  # Bình's live attempt only

    clock.now = live_svc.last_answer_at(live)  # the live round can no longer be joined
    await cúc.say("/thi")
    await cúc.tap("Thi chính thức")
    assert "Bắt đầu bài thi chính thức" in cúc.text and "Câu 1/5" in cúc.text

    # On the page too: Dũng sees the ordinary page, not the live round's, and starts there.
    clock.now = live_svc.ends_at(live) + dt.timedelta(minutes=1)  # and the live attempts are submitted
    page.session.cookie_jar.clear()
    assert (await enter(page, await page_link(dũng))).status == 303
    status, state = await api(page, "state")
    assert (status, state["step"], state["official_left"]) == (200, "ready", 1) and "live" not in state
    assert (await api(page, "start", {"official": True}))[0] == 200

    # Bình used the round's one official attempt in the live round.
    await bình.say("/thi")
    assert "Em còn 0 lượt thi chính thức" in bình.text
    assert not any("Thi chính thức" in label for _t, label in bình.options)
    after = await stored(web_app)
    refs = {user: ref for user, kind, ref in after["attempts"] if kind == "contest"}
    assert len(refs) == 3 and sum(ref.endswith(":live") for ref in refs.values()) == 1
    assert after["entries"] == 3
