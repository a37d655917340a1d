"""A class name already used in the same school and school year is created only once the teacher confirms;
cancelling, or an old "create anyway" tap, creates nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.core.events import IncomingEvent
from db import models as m
from tests.core.test_console_flows import option_number


async def _named(app: App, name: str) -> int:
    async with app.sessions() as s:
        stmt = select(func.count()).select_from(m.SchoolClass).where(func.upper(m.SchoolClass.name) == name.upper())
        return int((await s.execute(stmt)).scalar_one())


async def _confirm_token(app: App, external_id: str) -> str:
    return await _confirm_token_for(app, external_id, "staff.class_confirm")


async def _confirm_token_for(app: App, external_id: str, wanted: str) -> str:
    async with app.sessions() as s:
        conv = (
            await s.execute(
                select(m.Conversation)
                .join(m.ChannelAccount, m.ChannelAccount.user_id == m.Conversation.user_id)
                .where(m.ChannelAccount.external_id == external_id)
            )
        ).scalar_one()
    return next(t for t, action, _label in conv.prompt["options"] if action == wanted)


async def _new_class(teacher: ConsoleSession, name: str, grade: str) -> str:
    screen = await teacher.send(option_number(await teacher.send("/menu"), "Tạo lớp"))
    screen = await teacher.send(name)
    return await teacher.send(option_number(screen, grade))


async def test_a_second_class_of_the_same_name_asks_first(app: App) -> None:
    await seed_demo(app.uow_factory, app.clock)  # the demo school has 7A in 2026-2027
    teacher = ConsoleSession(app.dispatcher, user="gv")

    screen = await _new_class(teacher, "7a", "7")
    assert "Năm học 2026-2027, trường đã có lớp 7a." in screen
    assert "Thầy/cô có chắc muốn tạo thêm một lớp 7a nữa không?" in screen
    assert "Mã lớp:" not in screen and await _named(app, "7A") == 1
    old_tap = await _confirm_token(app, "gv")
    screen = await teacher.send(option_number(screen, "Hủy"))
    assert await _named(app, "7A") == 1

    # The "create anyway" of the cancelled question is stale now: nothing is created.
    replies = await app.dispatcher.handle(IncomingEvent.choice(teacher.address(), old_tap))
    assert "Lựa chọn này đã cũ rồi" in replies[0].text and await _named(app, "7A") == 1

    screen = await _new_class(teacher, " 7A ", "7")
    tap = await _confirm_token(app, "gv")
    screen = await teacher.send(option_number(screen, "Vẫn tạo lớp"))
    assert "✅ Đã tạo lớp 7A (khối 7)." in screen and "Mã lớp:" in screen
    assert await _named(app, "7A") == 2
    # A second tap on the same button creates no third class.
    replies = await app.dispatcher.handle(IncomingEvent.choice(teacher.address(), tap))
    assert "Lựa chọn này đã cũ rồi" in replies[0].text and await _named(app, "7A") == 2


async def test_names_of_other_years_and_other_schools_do_not_ask(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    async with app.uow_factory() as uow:
        gv = await uow.users.by_account("console", "gv")
        assert gv is not None and gv.school_id is not None
        await uow.classes.create(gv.school_id, gv.id, "8B", 8, "2025-2026", "OLD8BX", app.clock())
        other = await uow.schools.create("Trường THCS Khác", app.clock())
        await uow.classes.create(other.id, None, "9C", 9, "2026-2027", "OTHR9C", app.clock())
        await uow.commit()
    teacher = ConsoleSession(app.dispatcher, user="gv")
    for name, grade in (("8B", "8"), ("9C", "9")):
        screen = await _new_class(teacher, name, grade)
        assert f"✅ Đã tạo lớp {name}" in screen and "trường đã có lớp" not in screen
    assert await _named(app, "8B") == 2 and await _named(app, "9C") == 2
    assert demo.class_name == "7A"


async def _class_names(app: App) -> list[str]:
    async with app.sessions() as s:
        return sorted((await s.execute(select(m.SchoolClass.name))).scalars())


async def _rename(teacher: ConsoleSession, current: str, new: str) -> str:
    screen = await teacher.send(option_number(await teacher.send("/classes"), f"🏫 {current}"))
    screen = await teacher.send(option_number(screen, "Đổi tên lớp"))
    return await teacher.send(new)


async def test_renaming_a_class_to_a_name_in_use_asks_first(app: App) -> None:
    await seed_demo(app.uow_factory, app.clock)
    teacher = ConsoleSession(app.dispatcher, user="gv")
    assert "✅ Đã tạo lớp 8B" in await _new_class(teacher, "8B", "8")
    # A class keeping its own name (in other letters) is no duplicate of itself.
    assert "✅ Đã đổi tên lớp thành 8b." in await _rename(teacher, "8B", "8b")

    screen = await _rename(teacher, "8b", "7a")
    assert "Năm học 2026-2027, trường đã có lớp 7a." in screen and "đổi tên lớp 8b thành 7a" in screen
    old_tap = await _confirm_token_for(app, "gv", "class.rename_confirm")
    screen = await teacher.send(option_number(screen, "Hủy"))
    assert await _class_names(app) == ["7A", "8b"]
    replies = await app.dispatcher.handle(IncomingEvent.choice(teacher.address(), old_tap))
    assert "Lựa chọn này đã cũ rồi" in replies[0].text and await _class_names(app) == ["7A", "8b"]

    screen = await _rename(teacher, "8b", "7a")
    screen = await teacher.send(option_number(screen, "Vẫn đổi tên"))
    assert "✅ Đã đổi tên lớp thành 7a." in screen and await _class_names(app) == ["7A", "7a"]
