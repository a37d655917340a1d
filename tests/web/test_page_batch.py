"""The contest page's answers stored in groups (`bot.web.page_batch`): answers that arrive together share one
transaction, and each comes out as it would alone: the first answer wins inside a group, a refusal or an error is
only its own, and every "saved" is in the database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import event, func, select

from bot.app import App
from bot.content.loader import Content
from bot.web import contest_page as cp
from bot.web.page_batch import Answer, AnswerGroups, store_one
from bot.web.server import make_web_app
from db import models as m
from db import models_page as mp
from tests.conftest import FakeClock
from tests.contests.helpers import contest_def, make_contest
from tests.web.page_helpers import add_students, api, enter, page_deps, page_link

Client = TestClient[Any, Any]


async def started(app: App, client: Client, chat: Any) -> dict[str, Any]:
    """The student's page with the official attempt started: its state."""
    assert (await enter(client, await page_link(chat))).status == 303
    assert (await api(client, "start", {"official": True}))[0] == 200
    status, state = await api(client, "state")
    assert status == 200 and state["step"] == "attempt"
    return state


async def stored(app: App) -> list[tuple[int, int, int]]:
    async with app.sessions() as s:
        rows = await s.execute(select(m.AttemptAnswer.attempt_id, m.AttemptAnswer.seq, m.AttemptAnswer.chosen))
        return sorted((r.attempt_id, r.seq, r.chosen) for r in rows)


async def test_answers_sent_together_are_stored_once_each_in_fewer_commits(
    web_app: App, clock: FakeClock, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    await make_contest(web_app, contest_def(clock()))
    chats = await add_students(web_app, [f"Học Sinh {i}" for i in range(6)])
    pages = [await aiohttp_client(make_web_app(page_deps(web_app))) for _ in chats]
    states = [await started(web_app, p, c) for p, c in zip(pages, chats, strict=True)]
    commits = []
    event.listen(web_app.engine.sync_engine, "commit", lambda _conn: commits.append(1))

    sends = [
        api(p, "answer", {"attempt": s["attempt"], "seq": seq, "pos": seq % 2, "key": f"k-{i}-{seq}-abcd"})
        for i, (p, s) in enumerate(zip(pages, states, strict=True))
        for seq in range(len(s["items"]))
    ]
    replies = await asyncio.gather(*sends)
    assert {(status, ack["status"]) for status, ack in replies} == {(200, "saved")}
    assert len(commits) < len(sends)  # answers that came in together were committed together
    expected = sorted((s["attempt"], seq) for s in states for seq in range(len(s["items"])))
    assert [(a, q) for a, q, _c in await stored(web_app)] == expected
    async with web_app.sessions() as s:
        keys = (await s.execute(select(func.count()).select_from(mp.PageAnswerKey))).scalar_one()
    assert keys == len(sends)


async def test_in_one_group_the_first_answer_wins_and_a_refusal_or_an_error_is_only_its_own(
    web_app: App, clock: FakeClock, test_content: Content, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    await make_contest(web_app, contest_def(clock()))
    bình, an = await add_students(web_app, ["Trần Văn Bình", "Lê Thị An"])
    pages = [await aiohttp_client(make_web_app(page_deps(web_app))) for _ in range(2)]
    first, second = [await started(web_app, p, c) for p, c in zip(pages, (bình, an), strict=True)]
    async with web_app.sessions() as s:
        rows = (await s.execute(select(m.QuizAttempt.id, m.QuizAttempt.user_id, m.QuizAttempt.ref))).all()
    owner = {r.id: (r.user_id, int(r.ref.split(":")[1])) for r in rows}

    def sent(state: dict[str, Any], seq: int, pos: int, key: str) -> Answer:
        user_id, round_id = owner[state["attempt"]]
        return Answer(user_id, round_id, state["attempt"], seq, pos, key, clock())

    failing = "breaks-the-group"

    async def store(uow: Any, content: Content, a: Answer) -> cp.Ack:
        ack = await store_one(uow, content, a)
        if a.key == failing:  # after its writes: the group's transaction cannot commit as it is
            raise RuntimeError("the database went away")
        return ack

    groups = AnswerGroups(web_app.uow_factory, test_content, store=store)
    results = await asyncio.gather(
        groups.answer(sent(first, 0, 1, "first-of-two")),
        groups.answer(sent(first, 0, 2, "second-of-two")),  # the same question: the first stands
        groups.answer(sent(first, 1, 0, "x")),  # a malformed key: refused, nothing written
        groups.answer(sent(second, 0, 0, failing)),
        groups.answer(sent(second, 1, 1, "after-the-error")),
        return_exceptions=True,
    )
    saved, duplicate, malformed, error, other = results
    assert saved == cp.Ack("saved", chosen=1)
    assert duplicate == cp.Ack("duplicate", chosen=1)
    assert isinstance(malformed, cp.PageRefusal) and malformed.status == 400
    assert isinstance(error, RuntimeError)
    assert other == cp.Ack("saved", chosen=1)
    # The group failed once, then each was stored alone: the error's answer is not kept, the others are.
    answers = {(a, q) for a, q, _c in await stored(web_app)}
    assert answers == {(first["attempt"], 0), (second["attempt"], 1)}


@pytest.mark.parametrize("writers", [1, 2])
async def test_a_quiet_page_stores_each_answer_at_once(
    web_app: App,
    clock: FakeClock,
    test_content: Content,
    aiohttp_client: Callable[..., Awaitable[Client]],
    writers: int,
) -> None:
    await make_contest(web_app, contest_def(clock()))
    (bình,) = await add_students(web_app, ["Trần Văn Bình"])
    page = await aiohttp_client(make_web_app(page_deps(web_app)))
    state = await started(web_app, page, bình)
    async with web_app.sessions() as s:
        user_id, ref = (await s.execute(select(m.QuizAttempt.user_id, m.QuizAttempt.ref))).one()
    groups = AnswerGroups(web_app.uow_factory, test_content, writers=writers)
    for seq in range(3):
        answer = Answer(user_id, int(ref.split(":")[1]), state["attempt"], seq, 0, f"alone-{seq}-abcd", clock())
        assert await groups.answer(answer) == cp.Ack("saved", chosen=0)
    assert groups.groups == 3 and len(await stored(web_app)) == 3
