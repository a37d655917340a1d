"""End-to-end fixtures: the app on a clock that ticks in real time (the rate limits are measured by the fake
servers in real seconds), starting on the same day as the other tests' fake clock."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import FakeClock


class TickingClock(FakeClock):
    """Real time, shifted to the tests' day; `advance()` jumps ahead (e.g. past a contest round)."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = self.now - dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += dt.timedelta(**kwargs)


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()
