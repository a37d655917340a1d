"""The safe mailbox in the reports (counts by kind, never a word nor a writer) and in retention (closed letters
are deleted MAILBOX_RETENTION_DAYS after closing; open ones and the counts stay)."""

from __future__ import annotations

import io

import docx
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.app import App
from bot.privacy.retention import purge
from bot.reports.options import ReportOptions
from bot.reports.render import render_report
from bot.reports.service import build_report, parse_period
from db import models as m
from tests.mailbox.helpers import LETTER, cases, option_number, world, write_letter

OTHER = "Có người lạ nhắn tin xin ảnh của em trên mạng"


async def report(app: App, who: str, scope: str):  # type: ignore[no-untyped-def]
    options = ReportOptions()
    async with app.uow_factory() as uow:
        actor = await uow.users.by_account("console", who)
        data = await build_report(uow, actor, scope, parse_period("2027", options), options, app.clock())
        await uow.commit()
    return data, render_report(data)


async def test_organizers_see_counts_by_kind_and_no_word_of_any_letter(app: App) -> None:
    w = await world(app)
    await write_letter(w.chat("hs"))
    await write_letter(w.chat("hs"), text=OTHER, kind="Chuyện trên mạng", who="Ghi tên", urgent=True)
    await write_letter(w.chat("hs"), text="Em thấy anh lớp trên mời bạn hút thuốc lạ", kind="Bị bắt nạt")

    data, files = await report(app, "btc", "all")
    assert data.figures.mailbox == {"bat-nat": 2, "tren-mang": 1}
    wb = load_workbook(io.BytesIO(files[1].content))
    rows = [list(r) for r in wb["Hộp thư an toàn"].iter_rows(min_row=4, values_only=True)]
    assert rows == [
        ["bị bắt nạt", 2],
        ["bạo lực hoặc xâm hại", 0],
        ["ma túy", 0],
        ["chuyện trên mạng", 1],
        ["chuyện khác", 0],
        ["Cộng", 3],
    ]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(files[0].content)).paragraphs)
    assert "Thư học sinh gửi hộp thư an toàn đến người làm tư vấn của nhà trường: 3 thư (bị bắt nạt: 2;" in text
    everything = repr([[c.value for c in row] for ws in wb for row in ws.iter_rows()]) + text
    for words in (LETTER, OTHER, "Nguyễn Văn An"):
        assert words not in everything

    # The school's own report has its counts; a teacher's report on their classes has no mailbox at all.
    school, _files = await report(app, "qt", "mine")
    assert school.figures.mailbox == {"bat-nat": 2, "tren-mang": 1}
    teacher, files = await report(app, "gv", "mine")
    assert teacher.figures.mailbox == {}
    assert "Hộp thư an toàn" not in load_workbook(io.BytesIO(files[1].content)).sheetnames


async def test_the_purge_deletes_closed_letters_on_time_and_keeps_the_counts(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    w = await world(app)
    student, counsellor = w.chat("hs"), w.chat("tv")
    await write_letter(student)  # will be closed now
    await write_letter(student, text=OTHER, kind="Chuyện trên mạng")  # stays open
    first, second = await cases(app)
    screen = await counsellor.send("/hopthu")
    screen = await counsellor.send(option_number(screen, f"Thư số {first.id}"))
    screen = await counsellor.send(option_number(screen, "Trả lời"))
    await counsellor.send("Cô sẽ gặp em sáng mai nhé.")
    screen = await counsellor.send("/hopthu")
    screen = await counsellor.send(option_number(screen, f"Thư số {first.id}"))
    await counsellor.send(option_number(screen, "Đã xong"))
    before, _files = await report(app, "btc", "all")

    # One day short of the retention time: nothing goes (accounts are kept longer here, so only letters go).
    clock.advance(days=app.settings.mailbox_retention_days - 1)
    totals = await purge(app.uow_factory, clock(), 1000, 30, app.settings.mailbox_retention_days)
    assert "mailbox_cases" not in totals and len(await cases(app)) == 2

    clock.advance(days=2)
    totals = await purge(app.uow_factory, clock(), 1000, 30, app.settings.mailbox_retention_days)
    assert totals["mailbox_cases"] == 1 and totals["mailbox_messages"] == 2
    assert [c.id for c in await cases(app)] == [second.id]
    async with app.sessions() as s:
        bodies = list((await s.execute(select(m.MailboxMessage.body))).scalars())
        assert bodies == [OTHER]
        counted = (await s.execute(select(func.count()).where(m.Activity.kind == "mailbox_written"))).scalar_one()
        assert counted == 2
    after, _files = await report(app, "btc", "all")
    assert after.figures.mailbox == before.figures.mailbox == {"bat-nat": 1, "tren-mang": 1}


async def test_a_shorter_retention_setting_is_honoured(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    w = await world(app)
    await write_letter(w.chat("hs"))
    (case,) = await cases(app)
    counsellor = w.chat("tv")
    screen = await counsellor.send("/hopthu")
    screen = await counsellor.send(option_number(screen, f"Thư số {case.id}"))
    await counsellor.send(option_number(screen, "Đã xong"))
    clock.advance(days=31)
    assert "mailbox_cases" not in await purge(app.uow_factory, clock(), 365, 30, 60)
    assert (await purge(app.uow_factory, clock(), 365, 30, 30))["mailbox_cases"] == 1
