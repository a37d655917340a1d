"""Roster rules against an in-memory unit of work: who may import, all-or-nothing sheets, idempotent imports,
and matching the students who join to roster rows (sure matches linked, doubtful ones left to the teacher)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.broadcasts import roster
from bot.core.errors import Refusal
from bot.core.roles import Role
from tests.fakes.uow import FakeUnitOfWorkFactory, World

NOW = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def world() -> World:
    return World()


async def import_sheet(
    world: World, teacher_id: int, class_id: int, rows: list[tuple[int, object, object]]
) -> roster.ImportResult:
    uows = FakeUnitOfWorkFactory(world)
    async with uows() as uow:
        result = await roster.import_roster(uow, world.users[teacher_id], class_id, rows, NOW)
        await uow.commit()
    return result


async def test_a_sheet_with_a_bad_row_adds_nobody(world: World) -> None:
    school = world.add_school("THCS Thanh Trì")
    teacher = world.add_user("Cô Lan", Role.TEACHER, school.id)
    klass = world.add_class(school, teacher, "6A")
    result = await import_sheet(world, teacher.id, klass.id, [(2, "Trần Văn Bình", "HS01"), (3, "", "HS02")])
    assert result.errors and result.added == 0
    assert world.roster == {}


async def test_importing_the_same_sheet_twice_changes_nothing(world: World) -> None:
    school = world.add_school("THCS Thanh Trì")
    teacher = world.add_user("Cô Lan", Role.TEACHER, school.id)
    klass = world.add_class(school, teacher, "6A")
    sheet: list[tuple[int, object, object]] = [(2, "Trần Văn Bình", "HS01"), (3, "Lê Thị Hoa", None)]
    first = await import_sheet(world, teacher.id, klass.id, sheet)
    second = await import_sheet(world, teacher.id, klass.id, sheet)
    assert (first.added, second.added, second.already_there) == (2, 0, 2)
    assert sorted(e.full_name for e in world.roster.values()) == ["Lê Thị Hoa", "Trần Văn Bình"]
    assert [a.action for a in world.audit] == ["roster.import", "roster.import"]


async def test_a_teacher_cannot_import_into_another_teachers_class(world: World) -> None:
    school = world.add_school("THCS Thanh Trì")
    owner = world.add_user("Cô Lan", Role.TEACHER, school.id)
    other = world.add_user("Thầy Minh", Role.TEACHER, school.id)
    klass = world.add_class(school, owner, "6A")
    with pytest.raises(Refusal):
        await import_sheet(world, other.id, klass.id, [(2, "Trần Văn Bình", None)])
    assert world.roster == {} and world.audit == []


async def test_a_name_typed_without_diacritics_links_to_its_one_roster_row(world: World) -> None:
    school = world.add_school("THCS Thanh Trì")
    teacher = world.add_user("Cô Lan", Role.TEACHER, school.id)
    klass = world.add_class(school, teacher, "6A")
    binh = world.add_user("tran van binh")
    world.join(binh, klass)
    await import_sheet(world, teacher.id, klass.id, [(2, "Trần Văn Bình", "HS01"), (3, "Lê Thị Hoa", "HS02")])
    linked = {e.full_name: e.user_id for e in world.roster.values()}
    assert linked == {"Trần Văn Bình": binh.id, "Lê Thị Hoa": None}


async def test_two_rows_with_the_same_name_are_left_to_the_teacher(world: World) -> None:
    school = world.add_school("THCS Thanh Trì")
    teacher = world.add_user("Cô Lan", Role.TEACHER, school.id)
    klass = world.add_class(school, teacher, "6A")
    student = world.add_user("Nguyễn Văn An")
    world.join(student, klass)
    await import_sheet(world, teacher.id, klass.id, [(2, "Nguyễn Văn An", "HS01"), (3, "Nguyễn Văn An", "HS02")])
    assert all(e.user_id is None for e in world.roster.values())  # never guessed
    async with FakeUnitOfWorkFactory(world)() as uow:
        pending = await roster.auto_link(uow, klass.id)
    assert [(p.member.user_id, len(p.candidates)) for p in pending] == [(student.id, 2)]


async def test_a_similar_name_is_offered_and_a_confirmed_match_cannot_be_taken_twice(world: World) -> None:
    school = world.add_school("THCS Thanh Trì")
    teacher = world.add_user("Cô Lan", Role.TEACHER, school.id)
    klass = world.add_class(school, teacher, "6A")
    hoa = world.add_user("Le Thi Hoaa")
    other = world.add_user("Lê Hoa")
    world.join(hoa, klass)
    world.join(other, klass)
    await import_sheet(world, teacher.id, klass.id, [(2, "Lê Thị Hoa", None)])
    (entry,) = world.roster.values()
    assert entry.user_id is None
    uows = FakeUnitOfWorkFactory(world)
    async with uows() as uow:
        pending = await roster.auto_link(uow, klass.id)
        assert [p.member.user_id for p in pending] == [hoa.id]
        await roster.confirm_match(uow, teacher, klass.id, hoa.id, entry.id, NOW)
        await uow.commit()
    assert world.roster[entry.id].user_id == hoa.id
    async with uows() as uow:
        with pytest.raises(Refusal):
            await roster.confirm_match(uow, teacher, klass.id, other.id, entry.id, NOW)
    assert world.roster[entry.id].user_id == hoa.id
