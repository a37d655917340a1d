"""Time: the clock every part is given, and Vietnam's time zone, in which users read every date and time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# What every part that needs "now" receives (the composition root passes `utc_now`; tests pass a fake clock).
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def vn_date(ts: dt.datetime) -> dt.date:
    """The calendar date in Vietnam at `ts` (content validity, due dates, report periods follow it)."""
    return ts.astimezone(VN_TZ).date()


def vn_time(ts: dt.datetime, fmt: str = "%H:%M %d/%m/%Y") -> str:
    """`ts` as a Vietnamese reader expects it: "07:30 19/08/2027", in Vietnam time."""
    return ts.astimezone(VN_TZ).strftime(fmt)


def vn_datetime(day: dt.date, at: dt.time) -> dt.datetime:
    """The UTC instant of a wall-clock time in Vietnam on `day` (e.g. 07:00 tomorrow morning)."""
    return dt.datetime.combine(day, at, VN_TZ).astimezone(dt.UTC)
