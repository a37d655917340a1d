"""Class management and rosters: import from a sheet (all or nothing, errors by row), matching students who
join, and the forbidden paths (a teacher touching another teacher's class)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.broadcasts import roster
from bot.broadcasts import service as broadcasts
from bot.broadcasts.roster_xlsx import read_roster, write_roster
from bot.core.errors import Refusal
from db import models as m
from tests.broadcasts.helpers import make_school


async def _entries(app: App, class_id: int) -> list[m.RosterEntry]:
    async with app.sessions() as s:
        return list(
            (
                await s.execute(
                    select(m.RosterEntry).where(m.RosterEntry.class_id == class_id).order_by(m.RosterEntry.id)
                )
            ).scalars()
        )


async def _import(app: App, user, class_id: int, data: bytes) -> roster.ImportResult:  # type: ignore[no-untyped-def]
    async with app.uow_factory() as uow:
        result = await roster.import_roster(uow, user, class_id, read_roster(data), app.clock())
        await uow.commit()
    return result


async def test_a_valid_sheet_becomes_roster_rows_and_importing_it_again_changes_nothing(app: App) -> None:
    school = await make_school(app, classes=1, per_class=0)
    cid = school.class_ids[0]
    sheet = write_roster([("Nguyễn Văn An", "HS01"), ("Trần Thị Bình", None), ("Lê Minh Châu", 12345)])  # type: ignore[list-item]
    result = await _import(app, school.teacher, cid, sheet)
    assert (result.added, result.errors) == (3, [])
    rows = await _entries(app, cid)
    assert [(r.full_name, r.student_code, r.name_key) for r in rows] == [
        ("Nguyễn Văn An", "HS01", "nguyen van an"),
        ("Trần Thị Bình", None, "tran thi binh"),
        ("Lê Minh Châu", "12345", "le minh chau"),
    ]
    again = await _import(app, school.teacher, cid, sheet)
    assert (again.added, again.already_there) == (0, 3) and len(await _entries(app, cid)) == 3


async def test_one_invalid_row_writes_nothing_and_names_the_row(app: App) -> None:
    school = await make_school(app, classes=1, per_class=0)
    cid = school.class_ids[0]
    sheet = write_roster([("Nguyễn Văn An", "HS01"), ("Trần Thị B1nh", None), ("Lê Minh Châu", "HS01"), ("", "X9")])
    result = await _import(app, school.teacher, cid, sheet)
    assert result.added == 0
    assert result.errors == [
        "Dòng 3: họ và tên “Trần Thị B1nh” không hợp lệ (chỉ gồm chữ cái, từ 2 đến 60 ký tự).",
        "Dòng 4: mã học sinh “HS01” trùng với dòng 2.",
        "Dòng 5: thiếu họ và tên.",
    ]
    assert await _entries(app, cid) == []


async def test_students_who_join_are_linked_when_certain_and_left_to_the_teacher_when_not(app: App) -> None:
    school = await make_school(app, classes=1, per_class=0)
    cid = school.class_ids[0]
    await _import(
        app,
        school.teacher,
        cid,
        write_roster([("Nguyễn Văn An", None), ("Phạm Thu Hà", "A1"), ("Phạm Thu Hà", "A2"), ("Đỗ Quang Huy", None)]),
    )
    now = app.clock()
    async with app.uow_factory() as uow:
        ids = {}
        for key, name in (("an", "nguyen van AN"), ("ha", "Phạm Thu Hà"), ("huy", "Đỗ Quang Hy")):
            user = await uow.users.create("zalo", key, key, "vi", now)
            await uow.users.update(user.id, display_name=name, onboarded=True)
            await uow.classes.add_member(user.id, cid, now)
            ids[key] = user.id
        pending = await roster.auto_link(uow, cid)
        await uow.commit()
    rows = {r.full_name + (r.student_code or ""): r.user_id for r in await _entries(app, cid)}
    assert rows["Nguyễn Văn An"] == ids["an"]  # exact after folding: linked on its own
    assert rows["Phạm Thu HàA1"] is None and rows["Đỗ Quang Huy"] is None
    assert {p.member.user_id: len(p.candidates) for p in pending} == {ids["ha"]: 2, ids["huy"]: 1}
    ha_a2 = next(c for p in pending for c in p.candidates if c.student_code == "A2")
    async with app.uow_factory() as uow:
        with pytest.raises(Refusal):  # another teacher cannot confirm it
            await roster.confirm_match(uow, school.other_teacher, cid, ids["ha"], ha_a2.id, now)
        await roster.confirm_match(uow, school.teacher, cid, ids["ha"], ha_a2.id, now)
        await uow.commit()
    assert {r.student_code: r.user_id for r in await _entries(app, cid)}["A2"] == ids["ha"]


async def test_a_teacher_cannot_touch_another_teachers_class_and_nothing_changes(app: App) -> None:
    school = await make_school(app, classes=1, per_class=3)
    theirs = school.other_class_id
    now = app.clock()
    async with app.sessions() as s:
        before = (await s.get(m.SchoolClass, theirs)).__dict__.copy()  # type: ignore[union-attr]
    attempts = [
        lambda uow: roster.rename_class(uow, school.teacher, theirs, "Lớp mới", now),
        lambda uow: roster.archive_class(uow, school.teacher, theirs, now),
        lambda uow: roster.new_join_code(uow, school.teacher, theirs, now),
        lambda uow: roster.import_roster(uow, school.teacher, theirs, [(1, "Nguyễn Văn An", None)], now),
        lambda uow: broadcasts.create_broadcast(
            uow, school.teacher, "lesson", "ma-tuy-primary-1", [school.class_ids[0], theirs], app.content, now
        ),
    ]
    for attempt in attempts:
        async with app.uow_factory() as uow:
            with pytest.raises(Refusal, match="Không tìm thấy lớp này"):
                await attempt(uow)
            await uow.commit()
    async with app.sessions() as s:
        after = await s.get(m.SchoolClass, theirs)
        assert (after.name, after.archived, after.join_code) == (before["name"], False, before["join_code"])  # type: ignore[union-attr]
        for table in (m.Broadcast, m.Delivery, m.RosterEntry):
            assert (await s.execute(select(func.count()).select_from(table))).scalar_one() == 0

    # The school admin manages every class of the school.
    async with app.uow_factory() as uow:
        renamed = await roster.rename_class(uow, school.admin, theirs, "  8B  mới ", now)
        code = (await roster.new_join_code(uow, school.admin, theirs, now)).join_code
        await roster.archive_class(uow, school.admin, theirs, now)
        await uow.commit()
    async with app.sessions() as s:
        after = await s.get(m.SchoolClass, theirs)
        assert (renamed.name, after.name, after.join_code, after.archived) == ("8B mới", "8B mới", code, True)  # type: ignore[union-attr]
        assert code != before["join_code"]


async def test_a_teacher_in_chat_is_refused_another_teachers_class(app: App) -> None:
    from bot.core.events import ChannelAddress, IncomingEvent

    school = await make_school(app, classes=1, per_class=2)
    theirs = school.other_class_id
    async with app.uow_factory() as uow:  # the other teacher's class has a student and a broadcast
        user = await uow.users.create("telegram", "x1", "x1", "vi", app.clock())
        await uow.classes.add_member(user.id, theirs, app.clock())
        bc, _plan = await broadcasts.create_broadcast(
            uow, school.other_teacher, "lesson", "ma-tuy-primary-1", [theirs], app.content, app.clock()
        )
        await uow.commit()
    addr = ChannelAddress("telegram", "gv1", "gv1")
    actions = [
        f"class.show:{theirs}",
        f"class.roster:{theirs}",
        f"class.rename:{theirs}",
        f"class.newcode:{theirs}",
        f"class.archive_yes:{theirs}",
        f"bc.new:{theirs}",
        f"bc.toggle:{theirs}",
        f"bc.list:{theirs}",
        f"bc.show:{bc.id}",
        f"bc.remind:{bc.id}",
    ]
    for action in actions:
        async with app.uow_factory() as uow:
            conv = await uow.conversations.get(school.teacher.id)
            conv.prompt = {"options": [["t1", action, "x"]]}
            await uow.conversations.save(school.teacher.id, conv, app.clock())
            await uow.commit()
        replies = await app.dispatcher.handle(IncomingEvent.choice(addr, "t1"))
        assert replies and "Không tìm thấy" in replies[0].text, action
    async with app.sessions() as s:
        klass = await s.get(m.SchoolClass, theirs)
        assert (klass.name, klass.archived) == ("8B", False)  # type: ignore[union-attr]
        assert (await s.execute(select(func.count()).select_from(m.Broadcast))).scalar_one() == 1
