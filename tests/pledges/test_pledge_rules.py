"""The rules of pledges through the console: the window (outside it, a clear answer and nothing stored), versions
(an edit is a new version; confirmations keep theirs), who may see and do what (another class, another school,
students and parents acting for others), bad input at every prompt, and a student who withdraws their consent."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select, update

from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.core.clock import VN_TZ
from bot.pledges.service import parse_window
from bot.privacy.retention import purge
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
from tests.reliability.helpers import row_counts, user_id_of

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)  # 09:00 in Vietnam


def vn(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VN_TZ).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("typed", "opens", "closes"),
    [
        ("25/11/2026 - 15/12/2026", vn(2026, 11, 25), vn(2026, 12, 16)),
        ("07:00 01/12/2026 - 17:30 15/12/2026", vn(2026, 12, 1, 7), vn(2026, 12, 15, 17, 30)),
        ("1/12 đến 15/1", vn(2026, 12, 1), vn(2027, 1, 16)),  # no year: this year, and an end before is next year's
        ("01.12.2026 – 15.12.2026 17h", vn(2026, 12, 1), vn(2026, 12, 15, 17)),
    ],
)
def test_a_window_is_read_in_vietnam_time(typed: str, opens: dt.datetime, closes: dt.datetime) -> None:
    assert parse_window(typed, NOW) == (opens, closes)


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("ngày mai", "chưa đọc được"),
        ("31/02/2027 - 01/03/2027", "chưa đọc được"),
        ("15/12/2026 - 01/12/2026", "phải sau thời gian bắt đầu"),
        ("01/11/2026 - 20/11/2026", "đã qua"),
        ("01/12/2026 - 01/12/2028", "một năm"),
        ("25:00 01/12/2026 - 02/12/2026", "chưa đọc được"),
        ("01/12/2026 - 02/12/2026 - 03/12/2026", "chưa đọc được"),
    ],
)
def test_a_window_that_cannot_be_is_refused_with_the_reason(typed: str, why: str) -> None:
    from bot.core.errors import Refusal  # the refusal type only matters here

    with pytest.raises(Refusal) as found:
        parse_window(typed, NOW)
    assert why in found.value.translated(str)


async def test_outside_the_window_a_confirmation_gets_a_clear_answer_and_nothing_is_stored(
    app: App, clock: FakeClock
) -> None:
    d = await district(app)
    student = await join(app, "hs1", d.code_7a, "Nguyễn Văn An", "7A")
    await publish(app, window="01/12/2026 - 10/12/2026")
    pid = await pledge_id(app)
    screen = await student.send("/camket")
    assert f"🕒 {TEMPLATE}" in screen
    screen = await student.send(option_number(screen, TEMPLATE))
    assert "🕒 Bản cam kết mở để ký từ 00:00 01/12/2026." in screen and "Em đã đọc" not in screen

    # A confirmation before the window opens (a forged choice): refused, nothing stored.
    uid = await user_id_of(app, "hs1")
    await _offer(app, uid, f"pledge.sign:{pid}.1")
    before = await row_counts(app)
    assert "chưa mở để ký: mở từ 00:00 01/12/2026" in await student.send("1")
    assert await row_counts(app) == before

    clock.now = vn(2026, 12, 10, 23, 50)  # inside: the student reads it; ten minutes later it closes
    await student.send(option_number(await student.send("/camket"), TEMPLATE))
    clock.now = vn(2026, 12, 11, 0, 0)
    before = await row_counts(app)
    screen = await student.send(option_number(await _screen(app, uid), "Em đã đọc"))
    assert "đã hết hạn ký (hết ngày 10/12/2026). Mình không ghi nhận gì thêm." in screen
    assert await row_counts(app) == before and await confirmations(app) == []
    assert "Hiện chưa có bản cam kết nào để em ký." in await student.send("/camket")


async def test_an_edit_publishes_a_new_version_and_confirmations_keep_the_one_they_confirmed(app: App) -> None:
    d = await district(app)
    students = {u: await join(app, u, d.code_7a, name, "7A") for u, name in STUDENTS_7A.items()}
    parent = await link_parent(app, students["hs1"], "ph1")
    await publish(app)
    pid = await pledge_id(app)
    await sign(students["hs1"])
    await sign(students["hs2"])
    await sign(parent, f"{TEMPLATE} – Nguyễn Văn An", "Tôi đã đọc")
    hs3 = students["hs3"]
    await hs3.send(option_number(await hs3.send("/camket"), TEMPLATE))  # reading version 1 while it is edited

    admin = ConsoleSession(app.dispatcher, user="qt")
    screen = await admin.send(option_number(await admin.send("/camket"), TEMPLATE))
    screen = await admin.send(option_number(screen, "Sửa nội dung"))
    assert "Nội dung hiện tại (phiên bản 1)" in screen
    before = await row_counts(app)
    assert "dài từ 20 đến" in await admin.send("ngắn quá")
    assert await row_counts(app) == before
    new_text = "Em xin cam kết:\n1. Đội mũ bảo hiểm, cài quai đúng cách.\n2. Không đi xe máy khi chưa đủ tuổi."
    screen = await admin.send(new_text)
    assert "Nội dung mới (phiên bản 2):" in screen
    screen = await admin.send(option_number(screen, "Công bố phiên bản mới"))
    assert "Đã công bố phiên bản 2. 3 người đã ký bản trước được mời đọc và ký lại." in screen
    assert "• 7A: học sinh 0/4 đã ký, phụ huynh 0/4 đã ký (2 em mới ký bản trước" in screen

    async with app.sessions() as s:
        versions = (
            await s.execute(select(m.PledgeVersion.version, m.PledgeVersion.text).order_by(m.PledgeVersion.version))
        ).all()
    assert [v for v, _t in versions] == [1, 2] and versions[1][1] == new_text
    assert [c[0] for c in await confirmations(app)] == [1, 1, 1]
    assert "vừa được sửa (phiên bản 2)" in (await notices_for(app, "hs1"))[-1]
    assert "vừa được sửa (phiên bản 2)" in (await notices_for(app, "ph1"))[-1]
    assert "vừa được sửa" not in (await notices_for(app, "hs4"))[-1]  # had not confirmed: nothing to confirm again

    # The button of version 1 that hs3 still has: the new text is shown, nothing is stored.
    before = await row_counts(app)
    screen = await hs3.send(option_number(await _screen(app, await user_id_of(app, "hs3")), "Em đã đọc"))
    assert "Nội dung bản cam kết vừa được cập nhật" in screen and "cài quai đúng cách" in screen
    assert await row_counts(app) == before

    screen = await students["hs1"].send("/camket")
    assert f"🔄 {TEMPLATE}" in screen
    screen = await students["hs1"].send(option_number(screen, TEMPLATE))
    assert "🔄 Nội dung đã được sửa sau lần xác nhận trước (phiên bản 1)" in screen
    assert "Cảm ơn em" in await students["hs1"].send(option_number(screen, "Em đã đọc"))
    hs1 = await user_id_of(app, "hs1")
    assert [(v, sig) for v, s_, sig, _by in await confirmations(app) if s_ == hs1] == [
        (1, "student"),
        (1, "parent"),
        (2, "student"),
    ]
    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send(option_number(await teacher.send("/camket"), TEMPLATE))
    assert "• 7A: học sinh 1/4 đã ký, phụ huynh 0/4 đã ký (1 em mới ký bản trước" in screen
    assert pid


async def test_another_class_another_school_and_other_roles_are_refused_and_change_nothing(app: App) -> None:
    d = await district(app)
    students = {u: await join(app, u, d.code_7a, name, "7A") for u, name in list(STUDENTS_7A.items())[:2]}
    parent = await link_parent(app, students["hs1"], "ph1")
    other = await join(app, "hs6", d.code_8b, "Đỗ Thị Giang", "8B")
    await publish(app)
    pid = await pledge_id(app)
    hs2 = await user_id_of(app, "hs2")

    async def refused(user: str, action: str, says: str) -> None:
        session = ConsoleSession(app.dispatcher, user=user)
        await session.send("/menu")
        await _offer(app, await user_id_of(app, user), action)
        before = await row_counts(app)
        screen = await session.send("1")
        assert says in screen, (user, action, screen)
        assert await row_counts(app) == before, (user, action)

    # The teacher of 7A and a list of 7B; the organizer and any list; a teacher who may not publish.
    await refused("gv", f"pledge.class:{pid}.{d.class_7b}", "Không tìm thấy lớp này")
    await refused("btc", f"pledge.class:{pid}.{d.class_7a}", "chỉ dành cho giáo viên của lớp")
    await refused("gv", "pledge.new", "Chỉ ban tổ chức và quản trị trường")
    await refused("btc", f"pledge.edit:{pid}", "do đơn vị khác công bố")
    # Another school: its admin and teacher neither see nor touch this pledge.
    assert TEMPLATE not in await ConsoleSession(app.dispatcher, user="qt2").send("/camket")
    await refused("qt2", f"pledge.show:{pid}", "Không tìm thấy bản cam kết này")
    await refused("qt2", f"pledge.edit:{pid}", "Không tìm thấy bản cam kết này")
    await refused("gv2", f"pledge.remind:{pid}", "Không tìm thấy bản cam kết này")
    await refused("gv2", f"pledge.class:{pid}.{d.class_7a}", "Không tìm thấy bản cam kết này")
    # A student of another school, a student on staff screens, a parent for someone else's child.
    assert "Hiện chưa có bản cam kết nào để em ký." in await other.send("/camket")
    await refused("hs6", f"pledge.read:{pid}", "Không tìm thấy bản cam kết này")
    await refused("hs6", f"pledge.sign:{pid}.1", "Không tìm thấy bản cam kết này")
    await refused("hs1", f"pledge.show:{pid}", "chỉ dành cho thầy cô")
    await refused("hs1", f"pledge.sign:{pid}.1.{hs2}", "Không tìm thấy bản cam kết này")
    await refused("ph1", f"pledge.sign:{pid}.1.{hs2}", "Không tìm thấy bản cam kết này")
    await refused("ph1", f"pledge.sign:{pid}.1", "Không tìm thấy bản cam kết này")
    assert await confirmations(app) == []
    assert "Nguyễn Văn An" in await parent.send("/camket")


async def test_bad_input_at_every_prompt_gets_a_clear_answer_and_changes_nothing(app: App, clock: FakeClock) -> None:
    d = await district(app)
    admin = ConsoleSession(app.dispatcher, user="qt")
    screen = await admin.send("/camket")
    screen = await admin.send(option_number(screen, "Tạo bản cam kết"))
    before = await row_counts(app)
    assert "Thầy/cô chọn một số từ 1 đến 4" in await admin.send("9")
    assert "chưa hiểu ý thầy/cô" in await admin.send("mẫu nào cũng được")
    screen = await admin.send(option_number(screen, "Tự soạn nội dung"))
    for bad in ("abc", "x" * 130):
        assert "Tên bản cam kết dài từ 5 đến 120 ký tự" in await admin.send(bad)
    screen = await admin.send("Cam kết giữ gìn vệ sinh trường lớp")
    assert "gõ nội dung bản cam kết" in screen
    assert "Nội dung bản cam kết dài từ 20 đến 1000 ký tự" in await admin.send("ngắn")
    assert "dài quá" in await admin.send("x" * 1200)
    screen = await admin.send("Em xin cam kết:\n1. Bỏ rác đúng nơi quy định.\n2. Giữ lớp học sạch sẽ.")
    assert "Thời gian ký" in screen
    for bad, why in (
        ("mai", "chưa đọc được"),
        ("15/12/2026 - 01/12/2026", "phải sau thời gian bắt đầu"),
        ("01/11/2026 - 20/11/2026", "đã qua"),
        ("01/12/2026 - 01/12/2028", "một năm"),
    ):
        screen = await admin.send(bad)
        assert why in screen and "🗓 Thời gian ký (giờ Việt Nam)?" in screen  # the question again
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(m.Pledge)) == 0
    assert {k: v for k, v in (await row_counts(app)).items() if k != "conversations"} == {
        k: v for k, v in before.items() if k != "conversations"
    }
    screen = await admin.send("01/12/2026 - 15/12/2026")
    screen = await admin.send(option_number(screen, "Công bố"))
    assert "Đã công bố “Cam kết giữ gìn vệ sinh trường lớp”" in screen
    pid = await pledge_id(app, "Cam kết giữ gìn vệ sinh trường lớp")

    # Changing the window: bad input keeps the one there is.
    screen = await admin.send(option_number(screen, "Đổi thời gian ký"))
    before = await row_counts(app)
    assert "chưa đọc được" in await admin.send("sáng thứ hai")
    assert await row_counts(app) == before
    screen = await admin.send("01/12/2026 - 20/12/2026")
    assert "Đã đổi thời gian ký: từ 00:00 01/12/2026 đến hết ngày 20/12/2026." in screen
    async with app.sessions() as s:
        row = await s.get(m.Pledge, pid)
        assert row is not None and row.template is None and row.closes_at == vn(2026, 12, 21)

    # A student at the pledge's screen (now open): a number out of range, words that are no option, nothing.
    clock.now = vn(2026, 12, 2, 8)
    student = await join(app, "hs1", d.code_7a, "Nguyễn Văn An", "7A")
    screen = await student.send(option_number(await student.send("/camket"), "vệ sinh trường lớp"))
    before = await row_counts(app)
    assert "Em chọn một số từ 1 đến 3" in await student.send("7")
    assert "chưa hiểu ý em" in await student.send("xyz abc")
    assert "Em chưa gõ gì cả" in await student.send("  ")
    assert await row_counts(app) == before and await confirmations(app) == []
    assert "Cảm ơn em" in await student.send(option_number(screen, "Em đã đọc"))


async def test_a_student_who_withdraws_consent_drops_out_and_their_confirmations_go_with_their_data(
    app: App, clock: FakeClock
) -> None:
    d = await district(app)
    students = {u: await join(app, u, d.code_7a, name, "7A") for u, name in list(STUDENTS_7A.items())[:2]}
    parent = await link_parent(app, students["hs1"], "ph1")
    await publish(app)
    await sign(students["hs1"])
    await sign(students["hs2"])
    await sign(parent, f"{TEMPLATE} – Nguyễn Văn An", "Tôi đã đọc")
    hs1, hs2, ph1 = [await user_id_of(app, u) for u in ("hs1", "hs2", "ph1")]

    # The copy of hs1's data holds their confirmation and their parent's for them.
    screen = await students["hs1"].send("/privacy")
    await students["hs1"].send(option_number(screen, "Nhận bản sao dữ liệu"))
    copy = json.loads(students["hs1"].attachments[-1][1])
    assert {(r["signer"], r["confirmed_by"]) for r in copy["tables"]["pledge_confirmations"]} == {
        ("student", hs1),
        ("parent", ph1),
    }

    screen = await students["hs1"].send("/privacy")
    screen = await students["hs1"].send(option_number(screen, "Rút lại đồng ý"))
    await students["hs1"].send(option_number(screen, "Rút lại đồng ý"))

    # Processing stops at once: hs1 is no longer counted, reminded or served; the parent no longer acts for them.
    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send(option_number(await teacher.send("/camket"), TEMPLATE))
    assert "• 7A: học sinh 1/1 đã ký, phụ huynh 0/1 đã ký (0 phụ huynh có tài khoản liên kết)" in screen
    assert "Nguyễn Văn An" not in await teacher.send(option_number(screen, "Danh sách lớp 7A"))
    assert "Em đã rút lại đồng ý nên mình tạm dừng" in await students["hs1"].send("/camket")
    assert "chưa được liên kết với con" in await parent.send("/camket")
    screen = await teacher.send(option_number(await teacher.send("/camket"), TEMPLATE))
    assert "Không còn ai cần nhắc" in await teacher.send(option_number(screen, "Nhắc"))
    assert not any("Nhắc" in n for n in await notices_for(app, "hs1"))

    # The queued deletion is carried out: the confirmations about hs1 go, hs2's stay; the counts follow.
    assert len(await confirmations(app)) == 3
    async with app.sessions() as s:
        assert (
            await s.scalar(select(func.count()).select_from(m.PrivacyRequest).where(m.PrivacyRequest.kind == "erase"))
            == 1
        )
    assert any("Nguyễn Văn An" in n for n in await notices_for(app, "ph1"))
    await purge(app.uow_factory, clock(), 365, 30)
    assert await confirmations(app) == [(1, hs2, "student", hs2)]
    assert not any("Nguyễn Văn An" in n for n in await notices_for(app, "ph1"))  # the parent's notices named them
    screen = await teacher.send(option_number(await teacher.send("/camket"), TEMPLATE))
    assert "• 7A: học sinh 1/1 đã ký" in screen


async def test_confirmations_older_than_the_retention_period_are_deleted(app: App, clock: FakeClock) -> None:
    d = await district(app)
    student = await join(app, "hs1", d.code_7a, "Nguyễn Văn An", "7A")
    await publish(app)
    await sign(student)
    clock.advance(days=366)
    await student.send("/menu")  # still using the bot: the account stays
    totals = await purge(app.uow_factory, clock(), 365, 30)
    assert totals["pledge_confirmations"] == 1 and await confirmations(app) == []
    async with app.sessions() as s:
        user = await s.get(m.User, await user_id_of(app, "hs1"))
        assert user is not None and user.display_name == "Nguyễn Văn An"


async def _offer(app: App, user_id: int, action: str) -> None:
    """As if the user's stored choice had been forged to carry `action` as option 1."""
    async with app.sessions() as s:
        await s.execute(
            update(m.Conversation)
            .where(m.Conversation.user_id == user_id)
            .values(prompt={"options": [["f0f0f0f0", action, "Giả mạo"]], "text": "", "lettered": False})
        )
        await s.commit()


async def _screen(app: App, user_id: int) -> str:
    """The options the user was last offered, as the console shows them (to pick one by its label)."""
    async with app.sessions() as s:
        conv = await s.get(m.Conversation, user_id)
        assert conv is not None
        return "\n".join(f"  {i}. {label}" for i, (_t, _a, label) in enumerate(conv.prompt["options"], 1))
