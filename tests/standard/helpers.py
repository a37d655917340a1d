"""What the standard's tests share: a district of four schools, each with its admin (console accounts)."""

from __future__ import annotations

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.core.roles import Role
from tests.core.test_console_flows import option_number

SCHOOLS = ("Trường Tiểu học Bãi Nhà", "Trường THCS Hòn Tre", "Trường THCS Lại Sơn")


async def district(app: App) -> dict[str, int]:
    """The demo school (admin "qt", teacher "gv", organizer "btc") and three more schools with admins "qt1",
    "qt2", "qt3"; returns each admin's school id."""
    info = await seed_demo(app.uow_factory, app.clock)
    ids = {"qt": info.school_id}
    now = app.clock()
    async with app.uow_factory() as uow:
        for n, name in enumerate(SCHOOLS, 1):
            school = await uow.schools.create(name, now)
            user = await uow.users.create("console", f"qt{n}", f"qt{n}", "vi", now, role=Role.SCHOOL_ADMIN)
            await uow.users.update(user.id, display_name=f"Quản trị {n}", onboarded=True, school_id=school.id)
            ids[f"qt{n}"] = school.id
        await uow.commit()
    return ids


async def register(app: App, admin: str) -> str:
    session = ConsoleSession(app.dispatcher, user=admin)
    screen = await session.send("/tieuchuan")
    return await session.send(option_number(screen, "Đăng ký tiêu chuẩn"))


async def self_assess(app: App, admin: str, not_met: int = 0) -> str:
    """Answer every criterion in the chat (the first `not_met` as not met, with a note and a link) and submit."""
    session = ConsoleSession(app.dispatcher, user=admin)
    screen = await session.send("/tieuchuan")
    screen = await session.send(option_number(screen, "Tự đánh giá"))
    n = len(app.content.standard.criteria) if app.content.standard else 0
    for i in range(n):
        assert f"Tiêu chí {i + 1}/{n}" in screen, screen
        if i < not_met:
            screen = await session.send(option_number(screen, "Chưa đạt"))
            screen = await session.send(f"Đang hoàn thiện https://truong.example.vn/minh-chung/{i}")
        else:
            screen = await session.send(option_number(screen, "✅ Đạt"))
            screen = await session.send(option_number(screen, "Bỏ qua"))
    assert "Nộp bản tự đánh giá" in screen, screen
    return await session.send(option_number(screen, "Nộp bản tự đánh giá"))


async def evaluate(app: App, school: str, result: str = "Đạt", day: str = "20/11/2026", note: str = "BB số 12") -> str:
    session = ConsoleSession(app.dispatcher, user="btc")
    screen = await session.send("/tieuchuan")
    screen = await session.send(option_number(screen, school))
    screen = await session.send(option_number(screen, f"Ghi kết quả: {result}"))
    screen = await session.send(day)
    return await session.send(note)
