"""Ranking is a pure, total, deterministic order; prizes and the collective prize follow it exactly."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.contests import ranking
from bot.contests.ranking import Entry, Unit

T0 = dt.datetime(2027, 8, 19, 0, 0, tzinfo=dt.UTC)
RULE = ["score", "prediction", "duration", "submitted_at"]


@st.composite
def entries(draw: st.DrawFn) -> list[Entry]:
    n = draw(st.integers(0, 40))
    out = []
    for i in range(n):
        total = 5
        start = draw(st.integers(0, 50))
        length = draw(st.integers(1, 6))  # few values: many ties on duration and submission time
        out.append(
            Entry(
                registration_id=i + 1,
                user_id=100 + i,
                name=f"HS {i}",
                school_id=i % 3,
                school_name=f"Trường {i % 3}",
                class_id=i % 7,
                class_name=f"Lớp {i % 7}",
                score=draw(st.integers(0, total)),
                total=total,
                prediction=draw(st.one_of(st.none(), st.integers(0, 8))),
                started_at=T0 + dt.timedelta(seconds=start),
                finished_at=T0 + dt.timedelta(seconds=start + length),
            )
        )
    return out


@settings(max_examples=100, deadline=None)
@given(entries(), st.integers(0, 8), st.randoms(use_true_random=False))
def test_rank_is_total_deterministic_and_explained(rows: list[Entry], actual: int, rnd: random.Random) -> None:
    ranked = ranking.rank(rows, actual, RULE)
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert [r.entry for r in ranking.rank(shuffled, actual, RULE)] == [
        r.entry for r in ranked
    ]  # input order is irrelevant
    assert [r.rank for r in ranked] == list(range(1, len(rows) + 1))
    assert sorted(r.entry.registration_id for r in ranked) == sorted(e.registration_id for e in rows)
    for above, below in itertools.pairwise(ranked):
        a, b = above.entry, below.entry
        inf = float("inf")
        da = inf if above.distance is None else above.distance
        db_ = inf if below.distance is None else below.distance
        chain = [
            ("score", -a.score, -b.score),
            ("prediction", da, db_),
            ("duration", a.duration, b.duration),
            ("submitted_at", a.finished_at, b.finished_at),
            ("registration", a.registration_id, b.registration_id),
        ]
        first_diff = next(name for name, x, y in chain if x != y)
        assert below.separated_by == first_diff
        x, y = next((x, y) for name, x, y in chain if name == first_diff)
        assert x < y  # the entry above is better on exactly that criterion


@settings(max_examples=60, deadline=None)
@given(entries(), st.integers(0, 8), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3))
def test_prizes_go_down_the_ranking(rows: list[Entry], actual: int, a: int, b: int, c: int, d: int) -> None:
    counts = {"nhat": a, "nhi": b, "ba": c, "khuyen_khich": d}
    awarded = ranking.award(ranking.rank(rows, actual, RULE), counts, min_score=1)
    eligible = [r for r in awarded if r.entry.score >= 1]
    expected = [p for p in ranking.PRIZES for _ in range(counts[p])][: len(eligible)]
    assert [r.prize for r in eligible[: len(expected)]] == expected
    assert all(not r.prize for r in awarded if r.entry.score < 1)
    assert sum(1 for r in awarded if r.prize) == len(expected)


def test_actual_values() -> None:
    rows = [
        Entry(1, 1, "A", 1, "T", 1, "L", 5, 5, 1, T0, T0 + dt.timedelta(seconds=10)),
        Entry(2, 2, "B", 1, "T", 1, "L", 4, 5, 1, T0, T0 + dt.timedelta(seconds=10)),
    ]
    assert ranking.actual_value(rows, "all_correct_count") == 1
    assert ranking.actual_value(rows, "participant_count") == 2


def test_collective_by_rate_then_participants() -> None:
    units = [Unit(1, "Trường A", 10), Unit(2, "Trường B", 40), Unit(3, "Trường C", 20), Unit(4, "Trường D", 0)]
    took_part = {1: {1, 2, 3, 4, 5}, 2: set(range(100, 120)), 3: set(range(200, 210))}
    res = ranking.collective(units, took_part, "rate", top=2)
    # All three have a rate of 50%: more participants first; D has no members and nobody taking part.
    assert [(u.unit.id, u.participants, u.separated_by, u.prize) for u in res] == [
        (2, 20, "", True),
        (3, 10, "participants", True),
        (1, 5, "participants", False),
        (4, 0, "rate", False),
    ]
    by_count = ranking.collective(units, took_part, "participants", top=1)
    assert [u.unit.id for u in by_count if u.prize] == [2]
