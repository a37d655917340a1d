"""The contest page's API over the real application and database: entry by one-time link and by Telegram Mini App
(initData signed in the test with a known token), and the chat's rules through the page: registration bound to
the roster and both consents, the server's deadline, first answer wins, replays, forged, foreign and late answers
refused and logged, no correctness before submitting, the prediction, the ranking; moving between chat and page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.app import App
from bot.contests import service as svc
from bot.web.contest_page import entry_link
from bot.web.server import make_web_app
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import contest_def, make_contest
from tests.web.conftest import BASE_URL
from tests.web.page_helpers import (
    add_students,
    api,
    enter,
    keep_session,
    origin,
    page_deps,
    page_link,
    sign_init_data,
    telegram_fields,
)

Client = TestClient[Any, Any]


@pytest.fixture
async def page(web_app: App, aiohttp_client: Callable[..., Awaitable[Client]]) -> Client:
    return await aiohttp_client(make_web_app(page_deps(web_app)))


async def security_events(app: App) -> list[tuple[str, dict[str, Any]]]:
    async with app.sessions() as s:
        rows = (
            await s.execute(select(m.SecurityEvent.kind, m.SecurityEvent.detail).order_by(m.SecurityEvent.id))
        ).all()
    return [(r.kind, dict(r.detail)) for r in rows]


async def stored_answers(app: App, attempt_id: int) -> dict[int, int]:
    async with app.sessions() as s:
        rows = (
            await s.execute(
                select(m.AttemptAnswer.seq, m.AttemptAnswer.chosen).where(m.AttemptAnswer.attempt_id == attempt_id)
            )
        ).all()
    return {r.seq: r.chosen for r in rows}


async def start_official(page: Client) -> dict[str, Any]:
    status, _ok = await api(page, "start", {"official": True})
    assert status == 200, _ok
    status, state = await api(page, "state")
    assert status == 200 and state["step"] == "attempt", state
    return state


def right_pos(app: App, attempt: dict[str, Any], seq: int) -> int:
    """The option the test content marks right ("Đáp án đúng ..."), as the page shows it."""
    return next(i for i, label in enumerate(attempt["items"][seq]["options"]) if label.startswith("Đáp án đúng"))


async def test_a_whole_attempt_through_the_link_the_chat_sent(web_app: App, page: Client, clock: FakeClock) -> None:
    await make_contest(web_app, contest_def(clock()))
    (bình,) = await add_students(web_app, ["Trần Văn Bình"])
    token = await page_link(bình)
    assert "dùng được một lần, trong 30 phút" in bình.text
    response = await enter(page, token)
    assert response.status == 303 and response.headers["Location"] == "/thi/"
    cookie = response.cookies["antt_thi"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["secure"]

    html = await (await page.get("/thi/")).text()
    assert "Thi chính thức" in html and "Trần Văn Bình" in html
    state = await start_official(page)
    assert state["remaining_ms"] == 15 * 60 * 1000  # the server's deadline, not the phone's clock
    assert "correct" not in str(state) and "answer" not in state  # nothing tells which option is right
    attempt = state["attempt"]

    # Any order on the page: the last question first, then the others.
    for seq in [4, 0, 1, 2, 3]:
        pos = (
            right_pos(web_app, state, seq)
            if seq != 2
            else (right_pos(web_app, state, seq) + 1) % len(state["items"][seq]["options"])
        )
        status, ack = await api(page, "answer", {"attempt": attempt, "seq": seq, "pos": pos, "key": f"key-{seq}-abcd"})
        assert (status, ack["status"]) == (200, "saved"), (ack, await security_events(web_app))
        assert set(ack) == {"status", "chosen"}  # saved, and not whether it was right
        clock.advance(seconds=20)
    html = await (await page.get("/thi/")).text()
    assert html.count('aria-pressed="true"') == 5 and "Đã lưu" in html

    status, refused = await api(page, "submit", {"attempt": attempt, "prediction": "một trăm"})
    assert status == 400 and "số nguyên từ 0 đến" in refused["error"]
    status, done = await api(page, "submit", {"attempt": attempt, "prediction": 12})
    assert (status, done["status"]) == (200, "submitted")
    result = await (await page.get(f"/thi/?ket-qua={attempt}")).text()
    assert "Kết quả: 4/5 câu đúng." in result and "Dự đoán của em: 12." in result
    assert "Thời gian làm bài: 1 phút 40 giây." in result

    # The same ranking as the chat's.
    async with web_app.uow_factory() as uow:
        contest = (await uow.contests.all())[0]
        rnd = (await uow.contests.rounds(contest.id))[0]
        res = await svc.live_results(uow, contest, rnd)
    assert [(r.entry.name, r.entry.score, r.entry.prediction) for r in res.ranked] == [("Trần Văn Bình", 4, 12)]
    # One official attempt: the page now offers practice only.
    assert (await api(page, "state"))[1]["official_left"] == 0


async def test_one_time_links_are_spent_once_expire_and_open_their_own_round(
    web_app: App, page: Client, clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock()))
    bình, an = await add_students(web_app, ["Trần Văn Bình", "Lê Thị An"])
    token = await page_link(bình)
    assert (await enter(page, token)).status == 303
    again = await enter(page, token)
    assert again.status == 400 and "đã được dùng, đã hết hạn" in await again.text()

    late = await page_link(an)
    clock.advance(minutes=31)
    assert (await enter(page, late)).status == 400
    assert (await enter(page, "forged-token")).status == 400

    # A session opened for one round cannot answer nor submit an attempt of another round.
    other = contest_def(clock(), id="dot-khac", title="Hội thi khác")
    await make_contest(web_app, other)
    async with web_app.uow_factory() as uow:
        ids = [r.id for c in await uow.contests.all() for r in await uow.contests.rounds(c.id)]
        first_round, second_round = sorted(ids)
        user = await uow.users.by_account("zalo", "zalo0")
        assert user is not None
        links = [await entry_link(uow, user.id, r, BASE_URL, clock()) for r in (second_round, first_round)]
        await uow.commit()
    page.session.cookie_jar.clear()
    assert (await enter(page, links[0].rsplit("t=", 1)[1])).status == 303
    assert (await api(page, "register", {}))[0] == 200
    second = await start_official(page)
    assert second["title"] == "Hội thi khác"
    page.session.cookie_jar.clear()
    assert (await enter(page, links[1].rsplit("t=", 1)[1])).status == 303  # a session for the first round
    status, refused = await api(page, "start", {"official": True})  # one attempt at a time, as in the chat
    assert status == 409 and "đang làm dở một bài thi khác" in refused["error"]
    status, ack = await api(page, "answer", {"attempt": second["attempt"], "seq": 0, "pos": 0, "key": "other-round-1"})
    assert status == 409 and ack["status"] == "refused"
    status, _e = await api(page, "submit", {"attempt": second["attempt"], "prediction": 1})
    assert status == 403
    assert await stored_answers(web_app, second["attempt"]) == {}
    assert [k for k, _d in await security_events(web_app)] == ["foreign", "foreign"]


async def test_mini_app_init_data_is_checked(web_app: App, page: Client, clock: FakeClock) -> None:
    await make_contest(web_app, contest_def(clock()))
    await add_students(web_app, ["Trần Văn Bình"], channel="telegram")
    async with web_app.uow_factory() as uow:
        round_id = (await uow.contests.rounds((await uow.contests.all())[0].id))[0].id
    # The account's external id is "telegram0"; Telegram ids are numbers, so give it one.
    async with web_app.sessions() as s:
        account = (await s.scalars(select(m.ChannelAccount).where(m.ChannelAccount.channel == "telegram"))).one()
        account.external_id = "777001"
        await s.commit()
    now = clock()

    async def login(init_data: str, round_ref: str = str(round_id)) -> Any:
        return await page.post(
            "/thi/api/telegram", json={"init_data": init_data, "round": round_ref}, headers=origin(page)
        )

    good = sign_init_data(telegram_fields("777001", now))
    assert (await login(good.replace("hash=", "hash=0"))).status == 403  # a wrong hash
    assert (await login(sign_init_data(telegram_fields("777001", now), token="999:other-bot"))).status == 403
    no_user = sign_init_data({"auth_date": int(now.timestamp()), "query_id": "AAH"})
    assert (await login(no_user)).status == 403  # a missing field: no user
    no_date = sign_init_data({"user": {"id": 777001, "first_name": "Bình"}, "query_id": "AAH"})
    assert (await login(no_date)).status == 403  # a missing field: no auth_date
    old = sign_init_data(telegram_fields("777001", now - dt.timedelta(hours=1, minutes=1)))
    assert (await login(old)).status == 403  # older than an hour
    stranger = sign_init_data(telegram_fields("888002", now))
    assert (await login(stranger)).status == 403  # no account of ours
    assert (await page.get("/thi/api/state")).status == 401

    fresh = sign_init_data(telegram_fields("777001", now - dt.timedelta(minutes=59), start_param=str(round_id)))
    response = await login(fresh, round_ref="")
    assert response.status == 200, await response.text()
    keep_session(page, response)
    status, state = await api(page, "state")
    assert status == 200 and state["step"] == "register" and state["name"] == "Trần Văn Bình"


async def test_registration_needs_both_consents_and_takes_the_roster(
    web_app: App, page: Client, clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock()))
    (chi,) = await add_students(web_app, ["Phạm Minh Châu"], guardian=False)
    async with web_app.uow_factory() as uow:
        user = await uow.users.by_account("zalo", "zalo0")
        round_id = (await uow.contests.rounds((await uow.contests.all())[0].id))[0].id
        assert user is not None
        link = await entry_link(uow, user.id, round_id, "https://quanly.example.vn", clock())
        await uow.commit()
    assert (await enter(page, link.rsplit("t=", 1)[1])).status == 303
    status, state = await api(page, "state")
    assert state["step"] == "message" and "bố mẹ (người giám hộ)" in state["message"]
    status, refused = await api(page, "register", {})
    assert status == 409 and "bố mẹ (người giám hộ)" in refused["error"]
    status, refused = await api(page, "start", {"official": True})
    assert status == 409
    async with web_app.sessions() as s:
        assert (await s.scalar(select(func.count()).select_from(m.ContestRegistration))) == 0

    async with web_app.uow_factory() as uow:
        await uow.consents.add(user.id, "guardian", "paper_form", "2026-01", clock())
        await uow.commit()
    assert (await api(page, "register", {}))[0] == 200
    status, state = await api(page, "state")
    assert state["step"] == "ready" and state["klass"] == "7A" and state["official_left"] == 1
    assert chi.address.channel == "zalo"


async def test_first_answer_wins_and_forged_foreign_replayed_late_are_refused(
    web_app: App, page: Client, clock: FakeClock, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    await make_contest(web_app, contest_def(clock()))
    bình, an = await add_students(web_app, ["Trần Văn Bình", "Lê Thị An"])
    assert (await enter(page, await page_link(bình))).status == 303
    state = await start_official(page)
    attempt = state["attempt"]

    ok = {"attempt": attempt, "seq": 1, "pos": 2, "key": "first-answer"}
    assert (await api(page, "answer", ok))[1] == {"status": "saved", "chosen": 2}
    # The same request sent again (a lost acknowledgement): the same reply, stored once, nothing logged.
    assert (await api(page, "answer", ok))[1] == {"status": "saved", "chosen": 2}
    # Another answer to the same question: the first stands.
    status, ack = await api(page, "answer", {**ok, "pos": 0, "key": "second-answer"})
    assert (status, ack) == (200, {"status": "duplicate", "chosen": 2})
    assert len(await stored_answers(web_app, attempt)) == 1
    assert await security_events(web_app) == []

    # Forged: a question out of the attempt, an option out of range, a malformed key.
    for body in ({**ok, "seq": 5, "key": "forged-seq-1"}, {**ok, "seq": 0, "pos": 9, "key": "forged-pos-1"}):
        status, ack = await api(page, "answer", body)
        assert (status, ack["status"]) == (409, "refused") and ack["message"] == "Lựa chọn này không hợp lệ."
    assert (await api(page, "answer", {**ok, "seq": 0, "key": "x"}))[0] == 400
    assert (await api(page, "answer", {"attempt": "1", "seq": 0, "pos": 0, "key": "typed-wrong"}))[0] == 400

    # Foreign: another student's session cannot answer this attempt.
    other = await aiohttp_client(make_web_app(page_deps(web_app)))
    assert (await enter(other, await page_link(an))).status == 303
    status, ack = await api(other, "answer", {**ok, "seq": 0, "key": "someone-else"})
    assert (status, ack["status"]) == (409, "refused")
    status, _e = await api(other, "submit", {"attempt": attempt, "prediction": 3})
    assert status == 403
    assert [k for k, _d in await security_events(web_app)] == ["forged", "forged", "foreign", "foreign"], (
        await security_events(web_app)
    )
    assert len(await stored_answers(web_app, attempt)) == 1

    # Late: after the deadline and its grace the answer is refused and the attempt handed in at its deadline.
    clock.advance(minutes=15, seconds=3)
    status, ack = await api(page, "answer", {**ok, "seq": 0, "key": "after-time"})
    assert (status, ack["status"]) == (409, "late") and "Đã hết giờ" in ack["message"]
    assert [k for k, _d in await security_events(web_app)][-1] == "late"
    async with web_app.sessions() as s:
        att = await s.get(m.QuizAttempt, attempt)
        assert att is not None and att.finished_at is not None and att.score is not None
    status, state = await api(page, "state")
    assert state["step"] == "ready"  # the attempt is over
    shown = await (await page.get(f"/thi/?ket-qua={attempt}")).text()  # where the page goes when time is up
    assert "Đã hết giờ! Bài của em được nộp lúc hết giờ" in shown and "Thời gian làm bài: 15 phút 0 giây." in shown
    status, ack = await api(page, "answer", {**ok, "seq": 2, "key": "after-close"})
    assert ack["status"] == "closed"


async def test_submitting_needs_every_answer_and_late_predictions_do_not_count(
    web_app: App, page: Client, clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock()))
    (bình,) = await add_students(web_app, ["Trần Văn Bình"])
    assert (await enter(page, await page_link(bình))).status == 303
    state = await start_official(page)
    attempt = state["attempt"]
    for seq in range(4):
        await api(page, "answer", {"attempt": attempt, "seq": seq, "pos": 0, "key": f"answer-{seq}-xyz"})
    status, refused = await api(page, "submit", {"attempt": attempt, "prediction": 5})
    assert status == 409 and refused["error"] == "Em còn 1 câu chưa trả lời. Em trả lời hết rồi mới nộp bài nhé."
    await api(page, "answer", {"attempt": attempt, "seq": 4, "pos": 0, "key": "answer-4-xyz"})
    clock.advance(minutes=16)
    status, done = await api(page, "submit", {"attempt": attempt, "prediction": 5})
    assert (status, done["status"]) == (200, "late") and "không có câu dự đoán" in done["message"]
    async with web_app.sessions() as s:
        entry = (await s.scalars(select(m.ContestEntry))).one()
    assert entry.prediction is None


async def test_a_student_moves_from_the_chat_to_the_page_and_back(web_app: App, page: Client, clock: FakeClock) -> None:
    await make_contest(web_app, contest_def(clock()))
    (bình,) = await add_students(web_app, ["Trần Văn Bình"])
    token = await page_link(bình)
    await bình.tap("Thi chính thức")
    await bình.tap_token(bình.options[0][0])  # question 1 in the chat
    clock.advance(minutes=2)
    await bình.tap_token(bình.options[1][0])  # question 2
    assert "Câu 3/5" in bình.text

    assert (await enter(page, token)).status == 303
    _status, state = await api(page, "state")
    assert state["step"] == "attempt"
    assert [q["chosen"] for q in state["items"]] == [0, 1, None, None, None]  # nothing lost
    assert state["remaining_ms"] == 13 * 60 * 1000  # the true remaining time
    attempt = state["attempt"]
    for seq in (4, 3):
        assert (await api(page, "answer", {"attempt": attempt, "seq": seq, "pos": 0, "key": f"page-{seq}-key"}))[
            0
        ] == 200

    # Back in the chat: the one question left, then the prediction.
    await bình.say("/thi")
    assert "Câu 3/5" in bình.text
    await bình.tap_token(bình.options[0][0])
    assert "🔮" in bình.text
    await bình.say("7")
    assert "Em đã nộp bài" in bình.text
    assert sorted(await stored_answers(web_app, attempt)) == [0, 1, 2, 3, 4]  # each once, from both sides
    _status, state = await api(page, "state")
    assert state["step"] == "ready"
    _status, ack = await api(page, "answer", {"attempt": attempt, "seq": 2, "pos": 0, "key": "after-chat-1"})
    assert ack["status"] == "closed"


async def test_the_api_limits_each_account(web_app: App, page: Client, clock: FakeClock) -> None:
    await make_contest(web_app, contest_def(clock()))
    (bình,) = await add_students(web_app, ["Trần Văn Bình"])
    assert (await enter(page, await page_link(bình))).status == 303
    statuses = [(await page.get("/thi/api/state")).status for _ in range(80)]  # a burst of 40, then 5 a second
    assert statuses[:40] == [200] * 40 and 429 in statuses[40:]
    response = await page.get("/thi/api/state")
    assert response.status == 429 and "thao tác nhanh quá" in (await response.json())["error"]
    assert response.headers["Retry-After"] == "2"


async def test_the_page_is_small_safe_and_names_nobody_in_its_urls(
    web_app: App, page: Client, clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock()))
    (bình,) = await add_students(web_app, ["Trần Văn Bình"])
    token = await page_link(bình)
    assert "Trần" not in token and str(bình.address.user_id) not in token
    assert (await enter(page, token)).status == 303
    await start_official(page)
    response = await page.get("/thi/")
    html = await response.read()
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["Cache-Control"] == "no-store"
    assert b"<script>" not in html  # only our own script file
    total = len(html)
    for asset in ("/thi/static/thi.js", "/thi/static/thi.css"):
        got = await page.get(asset)
        assert got.status == 200
        total += len(await got.read())
    assert total < 60 * 1024, total
    # Without a session: a clear page, and the API refuses.
    page.session.cookie_jar.clear()
    signed_out = await page.get("/thi/")
    assert signed_out.status == 401 and "Làm bài trên trang web" in await signed_out.text()
    assert (await page.post("/thi/api/answer", json={}, headers=origin(page))).status == 401
    # A form from another site is refused before anything else.
    foreign = await page.post("/thi/api/register", json={}, headers={"Origin": "https://evil.example"})
    assert foreign.status == 403


async def test_the_chat_offers_the_page_on_telegram_as_a_mini_app_button(web_app: App, clock: FakeClock) -> None:
    await make_contest(web_app, contest_def(clock()))
    (bình,) = await add_students(web_app, ["Trần Văn Bình"], channel="telegram")
    await bình.say("/thi")
    await bình.tap("Đúng, em đăng ký")
    await bình.tap("Làm bài trên trang web")
    async with web_app.uow_factory() as uow:
        round_id = (await uow.contests.rounds((await uow.contests.all())[0].id))[0].id
    button = bình.replies[-1].prompt.options[0]  # type: ignore[union-attr]
    assert button.web_app and button.url == f"{BASE_URL}/thi/tg?r={round_id}"  # the round only, nobody's name
    # In the middle of an attempt in the chat, /web gives the same button for that attempt's round.
    await bình.say("/thi")
    await bình.tap("Thi chính thức")
    await bình.say("/thi")
    assert "Em đang làm dở bài thi" in bình.text and "em gõ /web" in bình.text
    await bình.say("/web")
    assert bình.replies[-1].prompt.options[0].url == button.url  # type: ignore[union-attr]


def test_the_direct_link_for_class_groups() -> None:
    from bot.web.page_flows import mini_app_link

    assert mini_app_link("antt_bot", "lambai", 7) == "https://t.me/antt_bot/lambai?startapp=7"
    assert mini_app_link("antt_bot", "", 7) == "" and mini_app_link(None, "lambai", 7) == ""
