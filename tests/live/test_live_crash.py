"""Kill -9 of the bot process in the middle of a live round: every answer the page acknowledged is stored, and
after the restart the round goes on on the same schedule (the next question opens at its time, and is answered).
Real processes, the real clock, students over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.accounts.seed import seed_demo
from bot.app import App, build_app
from bot.config import Settings
from bot.core.clock import utc_now
from bot.core.context import CoreSettings
from bot.live import service as live_svc
from bot.live.ports import LiveRec
from bot.web.contest_page import entry_link
from db import models as m
from db.migrate import upgrade_async
from tests.contests.helpers import contest_def, make_contest
from tests.fakes.content import write_test_content
from tests.web.conftest import free_port
from tests.web.page_helpers import add_students
from tests.web.test_live_page import demo_class

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.reliability]


async def _child(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.live.live_child", str(port), env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert line.strip() == b"READY"
    return proc


async def _wait_until(at: dt.datetime) -> None:
    await asyncio.sleep(max(0.0, (at - utc_now()).total_seconds()))


async def _answer(session: aiohttp.ClientSession, url: str, seq: int) -> int:
    async with session.post(
        f"{url}/thi/api/live/answer", json={"seq": seq, "pos": 0}, headers={"Origin": url}
    ) as response:
        return response.status


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_killed_process_loses_no_acknowledged_answer_and_the_round_goes_on(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    content_dir = write_test_content(tmp_path / "content")
    await upgrade_async(database_url)
    settings = Settings(database_url=database_url, web_base_url=url, content_dir=content_dir, _env_file=None)  # type: ignore[call-arg]
    app: App = build_app(settings, core_settings=CoreSettings())
    await seed_demo(app.uow_factory, app.clock)
    await make_contest(app, contest_def(app.clock(), questions=5))
    students = await add_students(app, [f"Học Sinh {i}" for i in range(6)])
    class_id = await demo_class(app)
    async with app.uow_factory() as uow:
        rnd = (await uow.contests.rounds((await uow.contests.all())[0].id))[0]
        tokens = []
        for chat in students:
            user = await uow.users.by_account(chat.address.channel, chat.address.user_id)
            assert user is not None
            klass = (await uow.classes.of_student(user.id))[0]
            school = await uow.schools.get(klass.school_id)
            await uow.contests.register(
                rnd.contest_id,
                user.id,
                user.display_name or "",
                klass.school_id,
                school.name if school else "",
                klass.id,
                klass.name,
                klass.grade,
                app.clock(),
            )
            tokens.append(await entry_link(uow, user.id, rnd.id, url, app.clock()))
        await uow.commit()

    env = {**os.environ, "DATABASE_URL": database_url, "WEB_BASE_URL": url, "CONTENT_DIR": str(content_dir)}
    proc = await _child(env, port)
    async with app.uow_factory() as uow:  # scheduled once the process serves (it may start slowly)
        contest, klass = await uow.contests.get(rnd.contest_id), await uow.classes.get(class_id)
        assert contest and klass
        now = app.clock()
        live: LiveRec = await live_svc.start(
            uow, app.content, contest, rnd, [klass], 10, 3, now + dt.timedelta(seconds=4), None, now, now.date()
        )
        await uow.commit()
    await app.close()
    sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in tokens]
    acked: set[tuple[int, int]] = set()  # (student index, seq) acknowledged with 200
    try:
        for session, link in zip(sessions, tokens, strict=True):
            token = link.rsplit("t=", 1)[1]
            async with session.post(f"{url}/thi/vao", data={"t": token}, headers={"Origin": url}) as r:
                assert r.status == 200  # followed to the page
            async with session.post(f"{url}/thi/api/live/join", json={}, headers={"Origin": url}) as r:
                assert r.status == 200, await r.text()

        await _wait_until(live.starts_at + dt.timedelta(seconds=0.5))  # question 1 is open
        for i, session in enumerate(sessions[:4]):
            if await _answer(session, url, 0) == 200:
                acked.add((i, 0))
        assert len(acked) == 4
        # The last two students send their answers while the process is killed: only acknowledged ones count.
        pending = [asyncio.create_task(_answer(s, url, 0)) for s in sessions[4:]]
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        for i, task in enumerate(pending, start=4):
            try:
                if await task == 200:
                    acked.add((i, 0))
            except aiohttp.ClientError:
                pass  # never acknowledged: the page sends it again while the question is open

        proc = await _child(env, port)  # the restarted process
        # The next question that opens from now on, at its time on the stored schedule.
        step = dt.timedelta(seconds=13)
        nxt = next(k for k in range(1, 5) if live.starts_at + step * k > utc_now())
        await _wait_until(live.starts_at + step * nxt + dt.timedelta(seconds=0.5))
        async with sessions[0].get(f"{url}/thi/api/state") as r:
            state = (await r.json())["state"]
        assert (state["phase"], state["index"]) == ("question", nxt)
        assert 7_000 <= state["remaining_ms"] <= 9_600
        for i, session in enumerate(sessions):
            if await _answer(session, url, nxt) == 200:
                acked.add((i, nxt))
        assert {(i, nxt) for i in range(6)} <= acked
    finally:
        for session in sessions:
            await session.close()
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()

    check = build_app(settings, core_settings=CoreSettings())
    try:
        async with check.sessions() as s:
            rows = (
                await s.execute(
                    select(m.User.display_name, m.AttemptAnswer.seq)
                    .join(m.QuizAttempt, m.QuizAttempt.id == m.AttemptAnswer.attempt_id)
                    .join(m.User, m.User.id == m.QuizAttempt.user_id)
                )
            ).all()
    finally:
        await check.close()
    stored = sorted((int(name.rsplit(" ", 1)[1]), seq) for name, seq in rows)
    assert len(stored) == len(set(stored))  # each answer once
    assert acked <= set(stored)  # every acknowledged answer is there
