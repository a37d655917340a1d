"""Attempts answered too fast (CHEAT-5, flagged for review only) are found by the database from the answers' times:
the same attempts as the rule says, on both databases, to the microsecond."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from sqlalchemy import select

from bot.app import App
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import add_official_attempt, contest_def, make_contest

LIMIT = 2.0  # seconds, the definition's review_median_seconds


def median_gap_below(started: dt.datetime, answered: list[dt.datetime], limit: float) -> bool:
    """The rule as written: the middle one of the sorted gaps (start to first answer, then between answers)."""
    gaps = sorted((b - a).total_seconds() for a, b in itertools.pairwise([started, *answered]))
    return bool(gaps) and gaps[len(gaps) // 2] < limit


async def test_the_database_flags_exactly_the_attempts_the_rule_flags(app: App, clock: FakeClock) -> None:
    contest_id = await make_contest(app, contest_def(clock()))
    rnd = random.Random(5)
    now = clock()
    expected: set[int] = set()
    async with app.sessions() as s:
        round_id = (await s.scalars(select(m.ContestRound.id).where(m.ContestRound.contest_id == contest_id))).one()
        for i in range(60):
            started = now + dt.timedelta(seconds=i)
            # Gaps around the limit, some exactly on it (not below) or a microsecond under it; some attempts with
            # one answer, some with none, answers out of order in time.
            n = rnd.choice([0, 1, 2, 5, 20])
            gaps = [
                rnd.choice([LIMIT, LIMIT - 1e-6, 0.3, 1.999999, 2.000001, 9.0, rnd.uniform(0, 5)]) for _ in range(n)
            ]
            answered = list(itertools.accumulate((dt.timedelta(seconds=g) for g in gaps), initial=dt.timedelta()))[1:]
            stamps = [started + a for a in answered]
            if n > 3 and i % 7 == 0:
                stamps[1], stamps[2] = stamps[2], stamps[1]
            attempt_id = await add_official_attempt(s, contest_id, round_id, f"HS {i}", started, stamps, 0)
            if median_gap_below(started, stamps, LIMIT):
                expected.add(attempt_id)
        await s.commit()
    async with app.uow_factory() as uow:
        found = await uow.contests.too_fast(round_id, LIMIT)
    assert found == expected
    assert 5 < len(expected) < 55  # both kinds are there: the comparison says something
