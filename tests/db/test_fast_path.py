"""The hot statements run on the driver's connection directly (db/fast.py: SQLite's inline connection, or
SQLAlchemy's asyncpg adapter) must read and write exactly what SQLAlchemy's own execution does: the same rows,
keys and Python types (datetimes, JSON, booleans), the same row counts, inside the session's transaction."""

from __future__ import annotations

import datetime as dt
import os
import random
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.contests import sql as contests_sql
from bot.learning import sql as learning_sql
from bot.live import sql as live_sql
from bot.runtime import sql as runtime_sql
from db import models as m
from db import repositories as r
from db.fast import FastSession
from tests.conftest import FakeClock
from tests.contests.helpers import Chat, contest_def, make_contest, make_roster

# What these compare is the fast path itself: with it off (DB_FAST_PATH=0) there is nothing to compare.
pytestmark = pytest.mark.skipif(os.environ.get("DB_FAST_PATH") == "0", reason="the fast path is off")


def _plain(rows: Any) -> list[tuple[tuple[str, Any], ...]]:
    return [tuple((k, (type(v).__name__, v)) for k, v in row._mapping.items()) for row in rows]


async def both(app: App, statement: Any, params: dict[str, Any]) -> tuple[Any, Any]:
    """The rows through the fast path and through AsyncSession.execute, each in its own transaction."""
    async with app.sessions() as s:
        assert isinstance(s, FastSession)
        fast = (await s.execute(statement, params)).all()
        assert s.info["_inline"][1] is not None, "the fast path was not taken"
    async with app.sessions() as s:
        slow = (await AsyncSession.execute(s, statement, params)).all()
    return _plain(fast), _plain(slow)


async def test_hot_reads_give_the_same_rows_and_types_as_sqlalchemy(app: App, clock: FakeClock) -> None:
    roster = await make_roster(app, 1, 1, 1, random.Random(3))
    await make_contest(app, contest_def(clock()))
    channel, ext, user_id, _name = roster.students[0]
    chat = Chat(app, channel, ext)
    await chat.start_official()
    for _ in range(2):
        clock.advance(seconds=10)
        await chat.tap("Đáp án đúng")
    async with app.sessions() as s:
        attempt_id = (await s.execute(select(m.QuizAttempt.id))).scalar_one()
        contest_id = (await s.execute(select(m.Contest.id))).scalar_one()
        round_id = (await s.execute(select(m.ContestRound.id))).scalar_one()

    cases = [
        (r._USER_FOR_EVENT, {"channel": channel, "external_id": ext}),
        (r._USER_BY_ACCOUNT, {"channel": channel, "external_id": ext}),
        (r._USER, {"user_id": user_id}),
        (r._CONVERSATION, {"user_id": user_id}),
        (learning_sql._ATTEMPT, {"attempt_id": attempt_id}),
        (learning_sql._ANSWERS, {"attempt_id": attempt_id}),
        (contests_sql._ANSWERING, {"attempt_id": attempt_id}),
        (contests_sql._ATTEMPT_CONTEXT, {"attempt_id": attempt_id}),
        (contests_sql._ATTEMPT_WITH_CONTEXT, {"attempt_id": attempt_id}),
        (contests_sql._RUNNING, {"user_id": user_id}),
        (contests_sql._STUDENT_ROUND, {"round_id": round_id, "user_id": user_id}),
        (contests_sql._STUDENT_ROUNDS, {"user_id": user_id}),
        (contests_sql._CONTEST_DEFINITION, {"contest_id": contest_id}),
    ]
    for statement, params in cases:
        fast, slow = await both(app, statement, params)
        assert fast == slow and fast, statement
    fast, _slow = await both(app, contests_sql._ANSWERING, {"attempt_id": attempt_id})
    values = dict(fast[0])
    assert values["a_started_at"][0] == "datetime" and values["answered"] == ("int", 2)
    assert values["a_questions"][0] == "list"
    fast, _slow = await both(app, r._USER_FOR_EVENT, {"channel": channel, "external_id": ext})
    assert dict(fast[0])["unreachable"] == ("bool", False) and dict(fast[0])["data"][0] == "dict"
    assert await both(app, r._USER_FOR_EVENT, {"channel": channel, "external_id": "nobody"}) == ([], [])
    booking = {"round_id": round_id, "contest_id": contest_id, "user_id": user_id}  # no live round: no row
    assert await both(app, live_sql._BOOKING, booking) == ([], [])


async def test_hot_writes_count_rows_and_roll_back_with_the_session(app: App, clock: FakeClock) -> None:
    now = clock()
    payload = {"update_id": 7, "message": {"text": "/thi", "chat": {"id": 1}}}
    store = {"channel": "telegram", "bot_id": "1", "external_id": "7", "payload": payload, "now": now}
    async with app.sessions() as s:
        first = (await s.execute(runtime_sql._STORE_UPDATE, store)).scalar_one_or_none()
        again = (await s.execute(runtime_sql._STORE_UPDATE, store)).scalar_one_or_none()
        assert isinstance(first, int) and again is None  # a redelivery is not stored twice
        replies = [{"text": "Chào em"}]
        done = await s.execute(runtime_sql._MARK_HANDLED, {"inbox_id": first, "b_replies": replies, "now": now})
        twice = await s.execute(runtime_sql._MARK_HANDLED, {"inbox_id": first, "b_replies": replies, "now": now})
        assert (done.rowcount, twice.rowcount) == (1, 0)
        await s.commit()
    async with app.sessions() as s:
        row = (await s.execute(select(m.InboundUpdate))).scalar_one()
        assert (row.status, row.payload, row.replies) == ("handled", payload, replies)
        assert row.handled_at == now and isinstance(row.received_at, dt.datetime)

    async with app.sessions() as s:  # not committed: nothing stays
        store["external_id"] = "8"
        assert (await s.execute(runtime_sql._STORE_UPDATE, store)).scalar_one_or_none() is not None
        await s.rollback()
    async with app.sessions() as s:
        assert len((await s.execute(select(m.InboundUpdate.id))).all()) == 1


async def test_a_missing_parameter_is_refused_before_anything_runs(app: App) -> None:
    async with app.sessions() as s:
        with pytest.raises(KeyError, match="external_id"):
            await s.execute(r._USER_FOR_EVENT, {"channel": "telegram"})


async def test_an_error_on_the_fast_path_is_sqlalchemys_and_the_session_goes_on(app: App, clock: FakeClock) -> None:
    from sqlalchemy.exc import IntegrityError

    row = {"user_id": 999_999, "flow": "", "step": "", "data": {}, "prompt": {}, "now": clock()}
    async with app.sessions() as s:
        with pytest.raises(IntegrityError):  # no such user: the foreign key refuses it, as through SQLAlchemy
            await s.execute(r._SAVE_CONVERSATION, row)
        await s.rollback()
        assert (await s.execute(r._USER_FOR_EVENT, {"channel": "telegram", "external_id": "1"})).all() == []
    async with app.sessions() as s:
        assert (await s.execute(select(m.Conversation.user_id))).all() == []
