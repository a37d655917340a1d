"""Pledges in the chat, end to end through the console: a school admin publishes a template, students and linked
parents confirm, and the teacher, the admin, the organizer and the period report count exactly that; confirming
twice keeps one record; notices and reminders reach those who have not confirmed."""

from __future__ import annotations

import io

from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.channels.console.transport import ConsoleOutput, ConsoleTransport
from bot.core.events import IncomingEvent
from bot.pledges import service as pledges
from bot.runtime.notices import deliver_notices
from db import models as m
from tests.conftest import FakeClock
from tests.core.test_console_flows import option_number
from tests.pledges.helpers import (
    STUDENTS_7A,
    TEMPLATE,
    confirmations,
    district,
    join,
    link_parent,
    notices_for,
    pledge_id,
    publish,
    sign,
)
from tests.reliability.helpers import user_id_of

PARENT_LABEL = "Tôi đã đọc"


async def test_three_students_and_two_parents_give_the_right_tallies_in_the_chat_and_the_report(app: App) -> None:
    d = await district(app)
    students = {u: await join(app, u, d.code_7a, name, "7A") for u, name in STUDENTS_7A.items()}
    parents = {p: await link_parent(app, students[c], p) for p, c in (("ph1", "hs1"), ("ph2", "hs2"), ("ph3", "hs3"))}
    await join(app, "hs5", d.code_7b, "Hoàng Văn Em", "7B")
    await join(app, "hs6", d.code_8b, "Đỗ Thị Giang", "8B")  # another school: not this pledge's

    # What the bot sends by itself goes out after each typed line, as in `make run`.
    transport = ConsoleTransport()
    output = ConsoleOutput(transport, None, lambda: deliver_notices(app.uow_factory, app.clock, {"console": transport}))
    admin = ConsoleSession(app.dispatcher, user="qt", output=output)
    screen = await admin.send("/camket")
    screen = await admin.send(option_number(screen, "Tạo bản cam kết"))
    assert "Cam kết theo luật cũ" not in screen  # its law is no longer in force: not offered
    screen = await admin.send(option_number(screen, TEMPLATE))
    screen = await admin.send(option_number(screen, "14 ngày"))
    assert "Khi công bố, bot báo cho 5 học sinh và 3 phụ huynh đã liên kết của 2 lớp." in screen
    assert "Thời gian ký: từ 09:00 28/11/2026 đến hết ngày 12/12/2026" in screen
    screen = await admin.send(option_number(screen, "Công bố"))
    assert "Đã công bố" in screen and "5 học sinh và 3 phụ huynh" in screen
    pid = await pledge_id(app)
    notice = ConsoleSession(app.dispatcher, user="hs1", output=output).waiting()
    assert f"“{TEMPLATE}”" in notice and "Em gõ /camket để đọc" in notice
    assert "cùng con Nguyễn Văn An" in ConsoleSession(app.dispatcher, user="ph1", output=output).waiting()
    assert await notices_for(app, "hs6") == []

    for user in ("hs1", "hs2"):
        assert "Cảm ơn em! Mình đã ghi nhận em cam kết" in await sign(students[user])
    for parent, child in (("ph1", "Nguyễn Văn An"), ("ph2", "Trần Thị Bình")):
        screen = await sign(parents[parent], f"{TEMPLATE} – {child}", PARENT_LABEL)
        assert f"anh/chị cùng con {child} cam kết" in screen

    # hs3 taps the button twice (a double tap): one record; the second tap is an old choice.
    hs3 = students["hs3"]
    await hs3.send(option_number(await hs3.send("/camket"), TEMPLATE))
    hs3_id = await user_id_of(app, "hs3")
    async with app.sessions() as s:
        conv = await s.get(m.Conversation, hs3_id)
        assert conv is not None
        token = next(t for t, action, _l in conv.prompt["options"] if action.startswith("pledge.sign"))
    first = await app.dispatcher.handle(IncomingEvent.choice(hs3.address(), token))
    second = await app.dispatcher.handle(IncomingEvent.choice(hs3.address(), token))
    assert first and "Cảm ơn em" in first[0].text
    assert second and "đã cũ" in second[0].text
    async with app.uow_factory() as uow:  # the same confirmation asked for once more (a replayed event)
        by = await uow.users.get(hs3_id)
        assert by is not None
        _pledge, new = await pledges.confirm(uow, pid, 1, hs3_id, "student", by, app.clock())
        await uow.commit()
    assert not new
    assert [c for c in await confirmations(app) if c[1] == hs3_id] == [(1, hs3_id, "student", hs3_id)]
    screen = await hs3.send(option_number(await hs3.send("/camket"), TEMPLATE))
    assert "✅ Em đã xác nhận lúc 09:00 28/11/2026." in screen and "Em đã đọc" not in screen

    # The teacher sees their class; the admin the school's classes; the organizer the school, counts only.
    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send("/camket")
    screen = await teacher.send(option_number(screen, TEMPLATE))
    assert "• 7A: học sinh 3/4 đã ký, phụ huynh 2/4 đã ký (3 phụ huynh có tài khoản liên kết)" in screen
    assert "7B" not in screen
    listing = await teacher.send(option_number(screen, "Danh sách lớp 7A"))
    assert "• Nguyễn Văn An – em: ✅, phụ huynh: ✅" in listing
    assert "• Lê Văn Cường – em: ✅, phụ huynh: …" in listing
    assert "• Phạm Thị Dung – em: …, phụ huynh: –" in listing
    screen = await ConsoleSession(app.dispatcher, user="qt").send(option_number(await admin.send("/camket"), TEMPLATE))
    assert "• 7A: học sinh 3/4 đã ký, phụ huynh 2/4 đã ký" in screen
    assert "• 7B: học sinh 0/1 đã ký, phụ huynh 0/1 đã ký (0 phụ huynh có tài khoản liên kết)" in screen
    assert "• Tổng: học sinh 3/5 đã ký, phụ huynh 2/5 đã ký (3 phụ huynh có tài khoản liên kết)" in screen
    organizer = ConsoleSession(app.dispatcher, user="btc")
    screen = await organizer.send(option_number(await organizer.send("/camket"), TEMPLATE))
    assert "• Trường THCS Thử Nghiệm: học sinh 3/5 đã ký, phụ huynh 2/5 đã ký" in screen
    assert "Danh sách lớp" not in screen and "Nguyễn Văn An" not in screen

    # The period report's annex and its DOCX table, for the school and for the district.
    report = ConsoleSession(app.dispatcher, user="qt")
    await report.send(option_number(await report.send("/report"), "Cả năm 2027"))
    sheet = load_workbook(io.BytesIO(report.attachments[1][1]))["Ký cam kết"]
    rows = [list(r) for r in sheet.iter_rows(min_row=4, values_only=True)]
    assert rows == [
        [1, TEMPLATE, "Trường THCS Thử Nghiệm", "7A", 4, 3, 75.0, 2, 50.0, 3],
        [2, TEMPLATE, "Trường THCS Thử Nghiệm", "7B", 1, 0, 0.0, 0, 0.0, 0],
        [None, TEMPLATE, "Cộng", None, 5, 3, 60.0, 2, 40.0, 3],
    ]
    await organizer.send(option_number(await organizer.send("/report"), "Cả năm 2027"))
    district_rows = [
        list(r)
        for r in load_workbook(io.BytesIO(organizer.attachments[1][1]))["Ký cam kết"].iter_rows(
            min_row=4, values_only=True
        )
    ]
    assert district_rows == [[1, TEMPLATE, "Trường THCS Thử Nghiệm", 5, 3, 60.0, 2, 40.0, 3]]
    doc = Document(io.BytesIO(organizer.attachments[0][1]))
    table = next(t for t in doc.tables if t.rows[0].cells[1].text == "Bản cam kết")
    assert [c.text for c in table.rows[1].cells] == ["1", TEMPLATE, "5", "3", "60", "2", "40"]


async def test_notices_and_a_reminder_once_a_day_reach_only_those_who_have_not_confirmed(
    app: App, clock: FakeClock
) -> None:
    d = await district(app)
    students = {u: await join(app, u, d.code_7a, name, "7A") for u, name in STUDENTS_7A.items()}
    await link_parent(app, students["hs1"], "ph1")
    await link_parent(app, students["hs2"], "ph2")
    await join(app, "hs5", d.code_7b, "Hoàng Văn Em", "7B")
    await publish(app)
    await sign(students["hs1"])
    before = {u: len(await notices_for(app, u)) for u in ("hs1", "hs2", "ph1", "ph2", "hs5")}

    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send(option_number(await teacher.send("/camket"), TEMPLATE))
    screen = await teacher.send(option_number(screen, "Nhắc những người chưa ký"))
    assert "Đã gửi lời nhắc tới 5 học sinh và phụ huynh chưa ký (1 lớp)." in screen  # hs2–hs4, ph1, ph2
    after = {u: await notices_for(app, u) for u in before}
    assert len(after["hs1"]) == before["hs1"]  # confirmed: not reminded
    assert "🔔 Nhắc em: em chưa xác nhận" in after["hs2"][-1] and "/camket" in after["hs2"][-1]
    assert "cùng con Nguyễn Văn An" in after["ph1"][-1]  # the parent of a child who signed has not signed
    assert len(after["hs5"]) == before["hs5"]  # another teacher's class

    again = await teacher.send(
        option_number(await teacher.send(option_number(await teacher.send("/camket"), TEMPLATE)), "Nhắc")
    )
    assert "Hôm nay thầy/cô đã nhắc" in again
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(m.PledgeReminder)) == 1
    admin = ConsoleSession(app.dispatcher, user="qt")
    screen = await admin.send(
        option_number(await admin.send(option_number(await admin.send("/camket"), TEMPLATE)), "Nhắc")
    )
    assert "tới 1 học sinh và phụ huynh chưa ký (1 lớp)" in screen  # 7B only: 7A was reminded today
    clock.advance(days=1)
    screen = await teacher.send(
        option_number(await teacher.send(option_number(await teacher.send("/camket"), TEMPLATE)), "Nhắc")
    )
    assert "Đã gửi lời nhắc tới 5" in screen
