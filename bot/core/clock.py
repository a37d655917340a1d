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


def school_year_of(day: dt.date) -> str:
    """The school year a day falls in; it starts in August ("2026-2027" from 1/8/2026)."""
    return f"{day.year}-{day.year + 1}" if day.month >= 8 else f"{day.year - 1}-{day.year}"


def official_date(day: dt.date, place: str = "") -> str:
    """The place and date line of an official document (Nghị định 30/2020/NĐ-CP): "Thanh Trì, ngày 19 tháng 8
    năm 2026"; days below 10 and the months 1 and 2 take a leading zero ("ngày 05 tháng 02 năm 2027")."""
    d = f"{day.day:02d}" if day.day < 10 else str(day.day)
    m = f"{day.month:02d}" if day.month < 3 else str(day.month)
    words = f"ngày {d} tháng {m} năm {day.year}"
    return f"{place}, {words}" if place else words[0].upper() + words[1:]
