"""Report periods: six months, the reporting year, the calendar year, explicit dates; bounds are Vietnam days."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.core.clock import VN_TZ
from bot.reports.options import ReportOptions
from bot.reports.service import PeriodError, offered_periods, parse_period, reporting_year
from tests.conftest import FakeClock
from tests.core.test_console_flows import option_number
from tests.reports.dataset import seed_dataset

OPTIONS = ReportOptions()


def test_first_half_runs_to_the_cutoff_in_vietnam_time() -> None:
    p = parse_period("2026-h1", OPTIONS)
    assert (p.first, p.last, p.tag, p.phrase) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 6, 15),
        "2026-H1",
        "6 tháng đầu năm 2026",
    )
    assert p.start == dt.datetime(2025, 12, 31, 17, tzinfo=dt.UTC)
    assert p.end == dt.datetime(2026, 6, 15, 17, tzinfo=dt.UTC)
    assert [d.month for d in p.months()] == [1, 2, 3, 4, 5, 6]


def test_the_reporting_year_and_the_calendar_year() -> None:
    p = parse_period("2026", OPTIONS)
    assert (p.first, p.last, p.phrase) == (dt.date(2025, 11, 16), dt.date(2026, 11, 15), "năm 2026")
    assert p.months()[0] == dt.date(2025, 11, 16) and p.months()[1] == dt.date(2025, 12, 1) and len(p.months()) == 13
    c = parse_period("2026", OPTIONS, calendar=True)
    assert (c.first, c.last, c.tag) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31), "2026")


def test_cutoffs_are_configurable() -> None:
    options = ReportOptions(half_year_cutoff="31/05", year_cutoff="31/10")
    assert parse_period("2026-H1", options).last == dt.date(2026, 5, 31)
    assert parse_period("2026", options).first == dt.date(2025, 11, 1)


def test_explicit_dates() -> None:
    p = parse_period(None, OPTIONS, date_from="2026-03-01", date_to="31/05/2026")
    assert (p.first, p.last, p.tag) == (dt.date(2026, 3, 1), dt.date(2026, 5, 31), "2026-03-01_2026-05-31")
    assert p.phrase == "từ ngày 01/03/2026 đến ngày 31/05/2026"


@pytest.mark.parametrize(
    ("spec", "kwargs"),
    [
        ("2026-H3", {}),
        ("năm nay", {}),
        ("", {}),
        (None, {"date_from": "2026-03-01"}),
        (None, {"date_from": "2026-05-01", "date_to": "2026-03-01"}),
        (None, {"date_from": "2026-02-30", "date_to": "2026-03-01"}),
    ],
)
def test_bad_periods_are_explained(spec: str | None, kwargs: dict[str, str]) -> None:
    with pytest.raises(PeriodError):
        parse_period(spec, OPTIONS, **kwargs)


# --- the periods the chat offers, from the clock (Vietnam days) ---


def _at_vn(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), VN_TZ).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("today", "first", "rest"),
    [
        # The six months are running: they come first, then their year.
        (dt.date(2027, 6, 14), "6 tháng đầu năm 2027 (01/01/2027 – 15/06/2027)", ["Cả năm 2027", "Cả năm 2026"]),
        (dt.date(2027, 6, 15), "6 tháng đầu năm 2027 (01/01/2027 – 15/06/2027)", ["Cả năm 2027", "Cả năm 2026"]),
        # The day after the half-year cut-off: the year is the current period.
        (dt.date(2027, 6, 16), "Cả năm 2027 (16/11/2026 – 15/11/2027)", ["6 tháng đầu năm 2027", "Cả năm 2026"]),
        (dt.date(2027, 11, 15), "Cả năm 2027 (16/11/2026 – 15/11/2027)", ["6 tháng đầu năm 2027", "Cả năm 2026"]),
        # The day after the year cut-off belongs to the next reporting year.
        (dt.date(2027, 11, 16), "Cả năm 2028 (16/11/2027 – 15/11/2028)", ["6 tháng đầu năm 2028", "Cả năm 2027"]),
        (dt.date(2026, 12, 2), "Cả năm 2027 (16/11/2026 – 15/11/2027)", ["6 tháng đầu năm 2027", "Cả năm 2026"]),
    ],
)
async def test_report_offers_the_current_period_first(
    app: App, clock: FakeClock, today: dt.date, first: str, rest: list[str]
) -> None:
    await seed_dataset(app.uow_factory, app.clock(), rows=5)
    # 06:30 in Vietnam is still the previous day in UTC: the Vietnam day decides.
    clock.now = _at_vn(today, hour=6)
    screen = await ConsoleSession(app.dispatcher, user="btc").send("/report")
    labels = [line.split(". ", 1)[1] for line in screen.splitlines() if line.startswith("  ")]
    assert labels[0] == first
    assert [label.split(" (")[0] for label in labels[1:3]] == rest
    assert len(labels) == 5 and labels[-1] == "⬅️ Về menu"


async def test_the_offered_current_year_makes_the_report_of_that_year(app: App, clock: FakeClock) -> None:
    await seed_dataset(app.uow_factory, app.clock(), rows=5)
    clock.now = _at_vn(dt.date(2026, 12, 2))
    btc = ConsoleSession(app.dispatcher, user="btc")
    screen = await btc.send("/report")
    screen = await btc.send(option_number(screen, "Cả năm 2027 (16/11/2026 – 15/11/2027)"))
    assert "📄 Báo cáo năm 2027 – toàn đặc khu" in screen
    assert btc.attachments[0][0] == "bao-cao-2027-toan-dac-khu.docx"


def test_offered_periods_around_the_cutoffs() -> None:
    tags = {d: [p.tag for p in offered_periods(d, OPTIONS)] for d in (dt.date(2027, 6, 15), dt.date(2026, 11, 16))}
    assert tags[dt.date(2027, 6, 15)] == ["2027-H1", "2027", "2026", "2026-H1"]
    assert tags[dt.date(2026, 11, 16)] == ["2027", "2027-H1", "2026", "2026-H1"]
    assert reporting_year(dt.date(2026, 11, 15), OPTIONS) == 2026
    assert reporting_year(dt.date(2026, 11, 16), OPTIONS) == 2027
