"""Report periods: six months, the reporting year, the calendar year, explicit dates; bounds are Vietnam days."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.reports.options import ReportOptions
from bot.reports.service import PeriodError, parse_period

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
