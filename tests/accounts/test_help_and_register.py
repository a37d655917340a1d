"""Help by role with the Vietnamese command names, and staff addressed as "thầy/cô" on every shared screen,
students as "em"."""

from __future__ import annotations

import re

import pytest

from bot.accounts.menus import VIETNAMESE_NAMES
from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.core.events import ChannelAddress, IncomingEvent
from tests.core.test_console_flows import onboard_student, option_number

# A sentence that speaks to the reader as a child ("Em chọn…", "của em", "em gõ…"); "các em" and "{n} em" speak
# about students, so they are not counted.
TO_A_CHILD = re.compile(r"(?<!các )(?<!\d )\b(Em|em (gõ|chọn|dùng|muốn|đã|có|giữ|học|kiểm tra|nhé))\b|\bcủa em\b")


async def stale_tap(app: App, user: str) -> str:
    event = IncomingEvent.choice(ChannelAddress("console", user, user), "0000dead")
    return "\n".join(r.text for r in await app.dispatcher.handle_safely(event))


async def test_student_help_lists_vietnamese_commands_and_the_hotline_file(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    await onboard_student(app, student, demo.class_code)
    screen = await student.send("/help")
    for shown in ("/baihoc học bài", "/luyentap luyện tập", "/thi hội thi", "/tiendo tiến độ", "/huy dừng"):
        assert shown in screen
    assert "/lessons" not in screen and "/practice" not in screen
    assert "• 111 – Tổng đài quốc gia bảo vệ trẻ em: khi em hoặc bạn bị bạo lực" in screen
    assert "• 115 – Cấp cứu y tế" in screen


@pytest.mark.parametrize(
    ("user", "has", "lacks"),
    [
        ("gv", ("tài khoản giáo viên", "/lop – xem lớp", "/taolop", "/guibai", "/baocao"), ("/themtruong", "/moi")),
        ("qt", ("tài khoản quản trị trường", "/moi – mời giáo viên", "/taolop", "/baocao"), ("/themtruong",)),
        ("btc", ("tài khoản ban tổ chức", "/themtruong", "/thi – tạo hội thi", "/baocao"), ("/taolop", "/guibai")),
    ],
)
async def test_staff_help_lists_what_their_role_can_do(
    app: App, user: str, has: tuple[str, ...], lacks: tuple[str, ...]
) -> None:
    await seed_demo(app.uow_factory, app.clock)
    screen = await ConsoleSession(app.dispatcher, user=user).send("/trogiup")
    for text in has:
        assert text in screen, text
    for text in lacks:
        assert text not in screen, text
    assert "/trangquanly – đường dẫn đăng nhập trang quản lý" in screen
    assert "Mình giúp em học bài" not in screen and "• 111 – Tổng đài quốc gia bảo vệ trẻ em" in screen
    assert not TO_A_CHILD.search(screen), screen


def test_every_vietnamese_name_is_the_same_command(app: App) -> None:
    commands = app.dispatcher.router.commands
    for english, vietnamese in VIETNAMESE_NAMES.items():
        assert commands[vietnamese] is commands[english], vietnamese


@pytest.mark.parametrize("user", ["gv", "qt", "btc"])
async def test_staff_are_addressed_as_thay_co_on_shared_screens(app: App, user: str) -> None:
    await seed_demo(app.uow_factory, app.clock)
    staff = ConsoleSession(app.dispatcher, user=user)
    screens = {
        "start": await staff.send("/start"),
        "stale": await stale_tap(app, user),
        "out of range": await staff.send("99"),
        "not understood": await staff.send("abc xyz"),
        "empty": await staff.send("   "),
        "privacy": await staff.send("/privacy"),
        "menu": await staff.send("/menu"),
    }
    screens["lessons"] = await staff.send(option_number(screens["menu"], "Học bài"))
    screens["practice"] = await staff.send("/practice")
    screens["distress"] = await staff.send("có học sinh bị bắt nạt")
    for name, screen in screens.items():
        assert not TO_A_CHILD.search(screen), f"{name}: {screen}"
    assert "Chào mừng thầy/cô quay lại" in screens["start"]
    assert "Thầy/cô dùng tin nhắn mới nhất" in screens["stale"]
    assert "Thầy/cô chọn một số từ 1 đến" in screens["out of range"]
    assert "Mình chưa hiểu ý thầy/cô" in screens["not understood"]
    assert "Thầy/cô chưa gõ gì cả" in screens["empty"]
    assert "Dữ liệu của thầy/cô" in screens["privacy"]
    assert "Thầy/cô muốn xem bài học chủ đề nào?" in screens["lessons"]
    assert "Nếu một học sinh đang gặp nguy hiểm" in screens["distress"] and "111" in screens["distress"]


async def test_students_keep_em(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    await onboard_student(app, student, demo.class_code)
    assert "Em dùng tin nhắn mới nhất" in await stale_tap(app, "hs")
    assert "Em chọn một số từ 1 đến" in await student.send("99")
    assert "Chào mừng em quay lại" in await student.send("/start")
