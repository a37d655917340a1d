"""Who may see what: organizers every school, school admins their school, teachers their own classes; each report
leaves an audit row, and a refused one leaves nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.app import App
from bot.core import activity as a
from bot.reports.options import ReportOptions
from bot.reports.service import ReportAccessDenied, authorize, build_report, parse_period
from db import models as m
from tests.reports.dataset import Dataset, seed_dataset

OPTIONS = ReportOptions()


@pytest.fixture
async def district(app: App) -> Dataset:
    return await seed_dataset(app.uow_factory, app.clock(), rows=150)


async def scope_of(app: App, ext: str, requested: str) -> str:
    async with app.uow_factory() as uow:
        actor = await uow.users.by_account("console", ext)
        return (await authorize(uow, actor, requested))[1]


@pytest.mark.parametrize(
    ("ext", "requested"),
    [
        ("qtA", "all"),
        ("qtA", "school:{b}"),
        ("qtA", "class:{B1}"),
        ("gv1", "all"),
        ("gv1", "school:{a}"),
        ("gv1", "class:{A2}"),  # a class of another teacher in the same school
        ("hsA10", "mine"),  # a student
        ("hsA10", "class:{A1}"),
        ("btc", "school:999"),  # no such school
        ("btc", "class:abc"),
        ("btc", "everything"),
    ],
)
async def test_forbidden_scopes_are_refused(app: App, district: Dataset, ext: str, requested: str) -> None:
    requested = requested.format(a=district.school_a, b=district.school_b, **district.classes)
    with pytest.raises(ReportAccessDenied):
        await scope_of(app, ext, requested)


async def test_allowed_scopes(app: App, district: Dataset) -> None:
    c = district.classes
    assert await scope_of(app, "btc", "mine") == "all"
    assert await scope_of(app, "btc", f"school:{district.school_b}") == f"school:{district.school_b}"
    assert await scope_of(app, "qtA", "mine") == f"school:{district.school_a}"
    assert await scope_of(app, "qtA", f"class:{c['A2']}") == f"classes:{c['A2']}"
    assert await scope_of(app, "gv1", "mine") == f"classes:{c['A1']}"
    assert await scope_of(app, "gv1", f"class:{c['A1']}") == f"classes:{c['A1']}"


async def test_a_teacher_sees_only_their_class_and_the_report_is_audited(app: App, district: Dataset) -> None:
    period = parse_period("2026-H1", OPTIONS)
    async with app.uow_factory() as uow:
        teacher = await uow.users.by_account("console", "gv1")
        data = await build_report(uow, teacher, "mine", period, OPTIONS, app.clock())
        await uow.commit()
    assert list(data.figures.classes) == [district.classes["A1"]]
    assert [r.key for r in data.figures.by_class] == [district.classes["A1"]]
    async with app.sessions() as s:
        rows = list((await s.execute(select(m.Activity))).scalars())
        audit = list((await s.execute(select(m.AuditLog).where(m.AuditLog.action == "report.create"))).scalars())
    mine = [r for r in rows if r.class_id == district.classes["A1"] and period.start <= r.at < period.end]
    assert data.figures.totals.counts[a.LESSON_OPENED] == sum(r.kind == a.LESSON_OPENED for r in mine)
    assert data.figures.totals.students == len({r.user_id for r in mine if r.kind in a.STUDENT_KINDS})
    assert data.figures.enrolled_by_class == {district.classes["A1"]: 8}
    (row,) = audit
    assert row.actor_id == district.users["gv1"] and row.scope == f"classes:{district.classes['A1']}"
    assert row.detail == {"period": "2026-H1", "from": "2026-01-01", "to": "2026-06-15"}
    assert row.at == app.clock()


async def test_a_refused_report_writes_nothing(app: App, district: Dataset) -> None:
    async with app.uow_factory() as uow:
        admin = await uow.users.by_account("console", "qtB")
        with pytest.raises(ReportAccessDenied):
            await build_report(uow, admin, "all", parse_period("2026", OPTIONS), OPTIONS, app.clock())
        await uow.commit()
    async with app.sessions() as s:
        assert list(await s.execute(select(m.AuditLog).where(m.AuditLog.action.like("report%")))) == []


async def test_a_teacher_without_classes_gets_an_empty_report(app: App, district: Dataset) -> None:
    async with app.uow_factory() as uow:
        new = await uow.users.create("console", "gv9", "gv9", "vi", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "teacher")
        data = await build_report(uow, new, "mine", parse_period("2026-H1", OPTIONS), OPTIONS, app.clock())
    assert data.figures.totals.students == 0 and set(data.figures.totals.counts.values()) == {0}
    assert data.figures.classes == {}
