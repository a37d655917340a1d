"""Who may see which report, and what building one records, against an in-memory unit of work: organizers the
district, school admins their school, teachers their own classes; a refusal says nothing and records nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from bot.core.ports import UserRec
from bot.core.roles import Role
from bot.reports.options import ReportOptions
from bot.reports.ports import ReportScope
from bot.reports.service import ReportAccessDenied, authorize, build_report, parse_period
from tests.fakes.uow import FakeUnitOfWorkFactory, World, empty_figures

NOW = dt.datetime(2026, 12, 2, 20, 0, tzinfo=dt.UTC)  # 03:00 on 3 December in Vietnam


@dataclass
class District:
    """Two schools; in the first, a school admin and a teacher with two classes, and a colleague's class."""

    world: World = field(default_factory=World)

    def __post_init__(self) -> None:
        w = self.world
        self.a, self.b = w.add_school("THCS Hòn Tre"), w.add_school("TH Lại Sơn")
        self.organizer = w.add_user("Phòng VH-XH", Role.ORGANIZER)
        self.admin_a = w.add_user("Cô Hiệu trưởng", Role.SCHOOL_ADMIN, self.a.id)
        self.teacher = w.add_user("Cô Lan", Role.TEACHER, self.a.id)
        self.mine = [w.add_class(self.a, self.teacher, "6A"), w.add_class(self.a, self.teacher, "7B")]
        self.colleague = w.add_class(self.a, w.add_user("Thầy Minh", Role.TEACHER, self.a.id), "8C")
        self.elsewhere = w.add_class(self.b, None, "5A")


@pytest.fixture
def d() -> District:
    return District()


async def scope_of(world: World, actor: UserRec | None, requested: str) -> tuple[ReportScope, str]:
    async with FakeUnitOfWorkFactory(world)() as uow:
        return await authorize(uow, actor, requested)


async def test_each_role_gets_its_natural_scope(d: District) -> None:
    assert await scope_of(d.world, d.organizer, "mine") == (ReportScope(), "all")
    assert await scope_of(d.world, d.admin_a, "mine") == (ReportScope(school_id=d.a.id), f"school:{d.a.id}")
    ids = tuple(sorted(c.id for c in d.mine))
    assert await scope_of(d.world, d.teacher, "mine") == (
        ReportScope(class_ids=ids),
        "classes:" + ",".join(map(str, ids)),
    )
    assert await scope_of(d.world, None, "all") == (ReportScope(), "all")  # the terminal operator


@pytest.mark.parametrize(
    ("who", "requested"),
    [
        ("teacher", "all"),
        ("teacher", "school:{a}"),
        ("teacher", "class:{colleague}"),
        ("admin_a", "all"),
        ("admin_a", "school:{b}"),
        ("admin_a", "class:{elsewhere}"),
        ("organizer", "school:999"),  # no such school: refused like a foreign one
        ("organizer", "class:abc"),
        ("organizer", "district"),
    ],
)
async def test_scopes_beyond_the_role_are_refused(d: District, who: str, requested: str) -> None:
    spec = requested.format(a=d.a.id, b=d.b.id, colleague=d.colleague.id, elsewhere=d.elsewhere.id)
    with pytest.raises(ReportAccessDenied):
        await scope_of(d.world, getattr(d, who), spec)


async def test_a_school_admin_sees_any_class_of_the_school(d: District) -> None:
    scope, _ = await scope_of(d.world, d.admin_a, f"class:{d.colleague.id}")
    assert scope == ReportScope(class_ids=(d.colleague.id,))


async def test_building_a_report_asks_for_the_period_in_vietnam_days_and_writes_one_audit_row(d: District) -> None:
    d.world.figures = empty_figures({d.a.id: "THCS Hòn Tre"})
    period = parse_period("2027", ReportOptions())
    uows = FakeUnitOfWorkFactory(d.world)
    async with uows() as uow:
        data = await build_report(uow, d.admin_a, "mine", period, ReportOptions(), NOW)
        await uow.commit()
    assert data.school_name == "THCS Hòn Tre" and not data.district_wide
    assert data.issued_on == dt.date(2026, 12, 3)  # the Vietnam date, not the UTC one
    (call,) = d.world.figure_calls
    start, end, scope = call[:3]
    assert (start, end) == (dt.datetime(2026, 11, 15, 17, tzinfo=dt.UTC), dt.datetime(2027, 11, 15, 17, tzinfo=dt.UTC))
    assert scope == ReportScope(school_id=d.a.id)
    assert [(a.actor_id, a.action, a.detail["period"]) for a in d.world.audit] == [
        (d.admin_a.id, "report.create", "2027")
    ]


async def test_a_refused_report_records_nothing(d: District) -> None:
    period = parse_period("2027", ReportOptions())
    async with FakeUnitOfWorkFactory(d.world)() as uow:
        with pytest.raises(ReportAccessDenied):
            await build_report(uow, d.teacher, "all", period, ReportOptions(), NOW)
    assert d.world.audit == [] and d.world.figure_calls == []
