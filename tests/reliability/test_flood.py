"""The flood rule alone (pure, clock injected): a sliding window of accepted events per account, one notice
per burst, other accounts unaffected, memory bounded, 0 turns it off."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.flood import FloodGuard, FloodRule, Verdict, replies_for

pytestmark = pytest.mark.reliability
T0 = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_five_per_two_seconds_then_one_notice_then_silence() -> None:
    guard = FloodGuard(FloodRule(5, 2))
    verdicts = [guard.check("telegram:1", at(i * 0.1)) for i in range(9)]
    assert verdicts == [Verdict.ALLOW] * 5 + [Verdict.NOTIFY] + [Verdict.DROP] * 3
    assert guard.check("telegram:2", at(0.9)) is Verdict.ALLOW  # another account is not affected
    assert guard.check("telegram:1", at(2.0)) is Verdict.ALLOW  # the first accepted event left the window
    assert guard.check("telegram:1", at(2.05)) is Verdict.NOTIFY  # a new burst gets a new notice
    assert replies_for(Verdict.NOTIFY, tap=True, notice="x")[0].text == ""  # a tap: toast only
    assert replies_for(Verdict.NOTIFY, tap=False, notice="x")[0].text == "x"
    assert replies_for(Verdict.DROP, tap=False, notice="x") == []


def test_off_and_bounded_memory() -> None:
    off = FloodGuard(FloodRule(0, 2))
    assert all(off.check("a", T0) is Verdict.ALLOW for _ in range(100))
    guard = FloodGuard(FloodRule(5, 2), max_accounts=10)
    for i in range(100):
        guard.check(f"telegram:{i}", at(i * 3))
    assert len(guard._accepted) <= 11


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.floats(0, 0.7)), max_size=80))
def test_never_more_than_n_accepted_in_any_window(events: list[tuple[int, float]]) -> None:
    guard = FloodGuard(FloodRule(5, 2))
    now, accepted = T0, {}
    for account, gap in events:
        now += dt.timedelta(seconds=gap)
        if guard.check(str(account), now) is Verdict.ALLOW:
            accepted.setdefault(account, []).append(now)
    for times in accepted.values():
        for i, start in enumerate(times):
            assert sum(1 for t in times[i:] if t - start < dt.timedelta(seconds=2)) <= 5
