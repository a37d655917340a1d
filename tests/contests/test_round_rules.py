"""Contest rules without a database: the round's state from the clock and the organizer's actions, which round a
command means, who is in scope, which consents allow registering, and how questions are drawn."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from bot.accounts.ports import ClassRec, ConsentRec
from bot.content.loader import load_content
from bot.contests.models import ContestDef
from bot.contests.ports import RoundRec
from bot.contests.service import (
    CHILD_CONSENT_MISSING,
    GUARDIAN_CONSENT_MISSING,
    RoundState,
    consent_problem,
    current_round,
    draw_questions,
    in_scope,
    round_state,
)

OPENS = dt.datetime(2027, 8, 19, 0, 0, tzinfo=dt.UTC)  # 07:00 in Vietnam
CLOSES = OPENS + dt.timedelta(hours=10)


def rnd(number: int, status: str = "scheduled", opens: dt.datetime = OPENS, closes: dt.datetime = CLOSES) -> RoundRec:
    return RoundRec(number, 1, number, f"Vòng {number}", opens, closes, status, None, None, None, None)


def contest(**fields: object) -> ContestDef:
    return ContestDef.model_validate(
        {
            "id": "thi-thu",
            "title": "Hội thi thử",
            "rounds": [
                {"name": "Vòng 1", "opens_at": "2027-08-19T07:00:00+07:00", "closes_at": "2027-08-19T17:00:00+07:00"}
            ],
            **fields,
        }
    )


def klass(class_id: int = 1, school_id: int = 10, grade: int = 6) -> ClassRec:
    return ClassRec(class_id, school_id, None, "6A", grade, "2026-2027", "ABC123")


@pytest.mark.parametrize(
    ("status", "at", "expected"),
    [
        ("scheduled", OPENS - dt.timedelta(seconds=1), RoundState.SCHEDULED),
        ("scheduled", OPENS, RoundState.OPEN),  # the written opening time opens it
        ("open", OPENS - dt.timedelta(hours=1), RoundState.OPEN),  # the organizer opened it early
        ("open", CLOSES, RoundState.CLOSED),  # the written closing time closes it
        ("closed", OPENS + dt.timedelta(hours=1), RoundState.CLOSED),  # closed early by the organizer
        ("published", CLOSES + dt.timedelta(days=3), RoundState.PUBLISHED),
        ("published", OPENS - dt.timedelta(days=3), RoundState.PUBLISHED),
    ],
)
def test_round_state_follows_the_clock_unless_an_organizer_acted(
    status: str, at: dt.datetime, expected: RoundState
) -> None:
    assert round_state(rnd(1, status), at) is expected


def test_the_current_round_is_the_open_one_else_the_next_else_the_last() -> None:
    day = dt.timedelta(days=1)
    first = rnd(1, opens=OPENS, closes=CLOSES)
    second = rnd(2, opens=OPENS + day, closes=CLOSES + day)
    rounds = [first, second]
    assert current_round(rounds, OPENS - day) is first  # nothing open: the next scheduled
    assert current_round(rounds, OPENS + dt.timedelta(hours=1)) is first
    assert current_round(rounds, CLOSES + dt.timedelta(hours=1)) is second  # between rounds: the next one
    assert current_round(rounds, CLOSES + 3 * day) is second  # all over: the last
    assert current_round([], OPENS) is None


def test_for_results_the_latest_closed_round_comes_before_a_published_one() -> None:
    day = dt.timedelta(days=1)
    published = rnd(1, "published")
    closed = rnd(2, "closed", opens=OPENS + day, closes=CLOSES + day)
    later = CLOSES + 5 * day
    assert current_round([published, closed], later, ended=True) is closed
    assert (
        current_round([published, rnd(2, opens=OPENS + 9 * day, closes=CLOSES + 9 * day)], later, ended=True)
        is published
    )


def consent(kind: str, withdrawn: bool = False) -> ConsentRec:
    return ConsentRec(kind, "in_chat", "v1", OPENS, OPENS if withdrawn else None)


def test_registration_needs_both_consents_in_force() -> None:
    assert consent_problem([]) == CHILD_CONSENT_MISSING
    assert consent_problem([consent("guardian")]) == CHILD_CONSENT_MISSING
    assert consent_problem([consent("child")]) == GUARDIAN_CONSENT_MISSING
    assert consent_problem([consent("child"), consent("guardian", withdrawn=True)]) == GUARDIAN_CONSENT_MISSING
    assert consent_problem([consent("child"), consent("guardian")]) is None


@pytest.mark.parametrize(
    ("scope", "the_class", "allowed"),
    [
        ({}, klass(), True),  # empty scope: everyone
        ({"schools": [10]}, klass(school_id=10), True),
        ({"schools": [10]}, klass(school_id=11), False),
        ({"classes": [1, 2]}, klass(class_id=3), False),
        ({"grades": [6, 7]}, klass(grade=6), True),
        ({"grades": [6, 7]}, klass(grade=8), False),
        ({"bands": ["primary"]}, klass(grade=5), True),
        ({"bands": ["primary"]}, klass(grade=6), False),
        ({"schools": [10], "grades": [9]}, klass(school_id=10, grade=6), False),  # every condition must hold
    ],
)
def test_scope_lets_in_only_the_classes_it_names(
    scope: dict[str, list[object]], the_class: ClassRec, allowed: bool
) -> None:
    assert in_scope(contest(scope=scope), the_class) is allowed


def test_each_draw_honours_the_difficulty_mix_and_never_repeats_a_question() -> None:
    content = load_content()
    d = contest(questions=6, mix={"difficulty": {1: 2, 2: 2}})
    day = dt.date(2027, 8, 19)
    draws = [draw_questions(content, d, day, None, random.Random(seed)) for seed in range(20)]
    for picked in draws:
        assert len(picked) == 6
        assert len({q.id for q in picked}) == 6
        by_level = [q.difficulty for q in picked]
        assert by_level.count(1) >= 2 and by_level.count(2) >= 2
    assert len({tuple(q.id for q in picked) for picked in draws}) > 1  # attempts differ
    again = draw_questions(content, d, day, None, random.Random(3))
    assert [q.id for q in again] == [q.id for q in draws[3]]  # the draw depends on the seed only
