"""The safe mailbox through the console chat: a child's anonymous letter reaches only the counsellors of their
school, the reply comes back to the child; the class teacher, another school's counsellor and the organizer
read nothing of it (chat, data copies); urgent letters alert every counsellor; a school without a counsellor
has its admin told; bad input changes nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.core.errors import Refusal
from bot.mailbox import service as mailbox
from db import models as m
from tests.mailbox.helpers import (
    LETTER,
    REPLY,
    STUDENT_NAME,
    add_staff,
    cases,
    option_number,
    stored_text,
    world,
    write_letter,
)
from tests.reliability.helpers import row_counts, user_id_of


def assert_hotlines(screen: str) -> None:
    # The numbers come from content/hotlines.yaml: 111 for a child, 113 or 112 when in danger now.
    assert "111 – Tổng đài quốc gia bảo vệ trẻ em" in screen
    assert "gọi 113 (Công an) hoặc 112" in screen


async def copy_of(chat, label: str = "Nhận bản sao dữ liệu") -> str:  # type: ignore[no-untyped-def]
    screen = await chat.send("/privacy")
    await chat.send(option_number(screen, label))
    return chat.attachments[-1][1].decode("utf-8")


async def test_an_anonymous_letter_reaches_only_its_schools_counsellors_and_the_reply_comes_back(app: App) -> None:
    w = await world(app)
    student, counsellor = w.chat("hs"), w.chat("tv")

    screen = await write_letter(student)  # it says "đánh em", "sợ lắm": the letter, not a distress interruption
    assert "Thư của em đã đến thầy/cô tư vấn" in screen and "thầy/cô không biết tên em" in screen
    assert_hotlines(screen)
    (case,) = await cases(app)
    assert (case.kind, case.anonymous, case.urgent, case.status) == ("bat-nat", True, False, "new")

    # Both counsellors of the school are told, without a word of the letter.
    for who in ("tv", "tv2"):
        notice = w.chat(who).waiting()
        assert "Hộp thư an toàn có một thư mới (bị bắt nạt)" in notice and LETTER not in notice

    # The counsellor reads it: the words, never who wrote an anonymous letter.
    screen = await counsellor.send("/hopthu")
    screen = await counsellor.send(option_number(screen, f"Thư số {case.id}"))
    assert LETTER in screen and "ẩn danh" in screen
    assert STUDENT_NAME not in screen and "7A" not in screen
    screen = await counsellor.send(option_number(screen, "Trả lời"))
    screen = await counsellor.send(REPLY)
    assert "Đã gửi trả lời cho học sinh" in screen and "đang hỗ trợ" in screen

    # The child is told in the chat, and reads the reply in the thread.
    notice = student.waiting()
    assert "Thầy/cô tư vấn của trường đã trả lời thư em" in notice and REPLY not in notice
    screen = await student.send("/hopthu")
    screen = await student.send(option_number(screen, "Thư em đã gửi"))
    screen = await student.send(option_number(screen, f"Thư số {case.id}"))
    assert LETTER in screen and REPLY in screen and "thầy/cô đang giúp em" in screen

    # Marked done by the counsellor; every reading was audited (ids only, never the words).
    screen = await counsellor.send("/hopthu")
    screen = await counsellor.send(option_number(screen, f"Thư số {case.id}"))
    screen = await counsellor.send(option_number(screen, "Đã xong"))
    assert "Đã đánh dấu thư: đã xong" in screen
    tv = await user_id_of(app, "tv")
    async with app.sessions() as s:
        audit = list((await s.execute(select(m.AuditLog).where(m.AuditLog.actor_id == tv))).scalars())
        assert [a.action for a in audit].count("mailbox.view") >= 3
        assert all(a.scope == f"mailbox:{case.id}" for a in audit if a.action == "mailbox.view")
        assert LETTER not in repr([(a.scope, a.detail) for a in audit])
        closed = (await s.execute(select(m.MailboxCase))).scalar_one()
        assert closed.status == "closed" and closed.closed_at == app.clock()
        # For the reports: a count by school and kind, linked to no one.
        counted = (await s.execute(select(m.Activity).where(m.Activity.kind == "mailbox_written"))).scalar_one()
        assert (counted.user_id, counted.class_id, counted.school_id, counted.ref) == (
            None,
            None,
            w.school_id,
            "bat-nat",
        )

    # The class teacher, another school's counsellor and the organizer read nothing of it in the chat.
    for who in ("gv", "gv2", "btc", "qt"):
        screen = await w.chat(who).send("/hopthu")
        assert LETTER not in screen and REPLY not in screen and f"Thư số {case.id}" not in screen
    screen = await w.chat("gv").send("/hopthu")
    assert "Chỉ thầy/cô tư vấn đọc được thư" in screen and "Cô Tư Vấn" in screen
    # Nor through the rules the chat and the web use, whatever id they ask for.
    ids = [await user_id_of(app, who) for who in ("gv", "gv2", "btc", "qt")]
    async with app.uow_factory() as uow:
        for uid in ids:
            user = await uow.users.get(uid)
            assert user is not None
            with pytest.raises(Refusal):
                await mailbox.read_for_counsellor(uow, user, case.id, app.clock())
            with pytest.raises(Refusal):
                await mailbox.reply(uow, app.i18n, user, case.id, "xin chào em", app.clock())

    # Data copies: the child's own has the letter; the teacher's, the organizer's, the other school's and even
    # the counsellor's who answered have none of it.
    own = await copy_of(student)
    assert LETTER in own and REPLY in own and '"author_id"' not in own
    for who in ("gv", "gv2", "btc", "tv"):
        copy = await copy_of(w.chat(who))
        assert LETTER not in copy and REPLY not in copy
        tables = json.loads(copy)["tables"]
        assert tables.get("mailbox_cases", []) == [] and tables.get("mailbox_messages", []) == []


async def test_a_parents_copy_of_the_childs_data_leaves_the_letters_out(app: App) -> None:
    w = await world(app)
    student = w.chat("hs")
    await write_letter(student, who="Ghi tên")
    screen = await student.send("/privacy")
    found = await student.send(option_number(screen, "Mã để bố mẹ đồng ý"))
    code = next(word for word in found.split() if word.startswith("P_"))
    parent = w.chat("ph")
    screen = await parent.send(f"/start {code}")
    await parent.send(option_number(screen, "Tôi đồng ý"))
    screen = await parent.send("/privacy")
    screen = await parent.send(option_number(screen, f"Dữ liệu của con: {STUDENT_NAME}"))
    await parent.send(option_number(screen, "Nhận bản sao dữ liệu của con"))
    copy = json.loads(parent.attachments[-1][1])
    assert copy["tables"]["users"][0]["display_name"] == STUDENT_NAME
    assert LETTER not in json.dumps(copy, ensure_ascii=False)
    assert "mailbox_cases" not in copy["tables"] and "hộp thư an toàn" in copy["not_included"]


async def test_a_named_letter_shows_the_childs_name_and_class_to_the_counsellor(app: App) -> None:
    w = await world(app)
    await write_letter(w.chat("hs"), kind="Ma túy", who="Ghi tên")
    (case,) = await cases(app)
    screen = await w.chat("tv").send("/hopthu")
    screen = await w.chat("tv").send(option_number(screen, f"Thư số {case.id}"))
    assert f"Người viết: {STUDENT_NAME} – 7A" in screen and "ma túy" in screen


async def test_an_urgent_letter_alerts_every_counsellor_of_the_school_at_once(app: App) -> None:
    w = await world(app)
    screen = await write_letter(w.chat("hs"), urgent=True)
    assert "mình đã báo ngay cho tất cả thầy/cô tư vấn" in screen
    assert_hotlines(screen)
    for who in ("tv", "tv2"):
        alert = w.chat(who).waiting()
        assert "🚨 Hộp thư an toàn: có thư KHẨN (bị bắt nạt)" in alert and LETTER not in alert
    for who in ("gv", "gv2", "qt", "btc"):
        assert "Hộp thư" not in w.chat(who).waiting()
    (case,) = await cases(app)
    screen = await w.chat("tv2").send("/hopthu")
    assert f"🚨 Thư số {case.id}" in screen


async def test_without_a_counsellor_the_admin_is_told_and_the_child_sees_the_hotlines(app: App) -> None:
    w = await world(app, counsellors=False)
    student = w.chat("hs")
    screen = await student.send("/hopthu")
    screen = await student.send(option_number(screen, "Viết thư mới"))
    assert "Trường em chưa chọn thầy/cô tư vấn" in screen
    assert_hotlines(screen)
    assert await cases(app) == []
    assert "gõ /tuvan để chọn thầy/cô tư vấn" in w.chat("qt").waiting()
    assert w.chat("gv").waiting() == ""

    # The admin names one in the chat; the named teacher is told; the child can write now.
    admin = w.chat("qt")
    screen = await admin.send("/tuvan")
    assert "Trường chưa chọn thầy/cô tư vấn" in screen
    screen = await admin.send(option_number(screen, "Chọn thầy/cô tư vấn"))
    screen = await admin.send(option_number(screen, "Cô Tư Vấn"))
    assert "Đã chọn Cô Tư Vấn làm thầy/cô tư vấn" in screen and "• Cô Tư Vấn" in screen
    assert "chọn thầy/cô làm thầy/cô tư vấn" in w.chat("tv").waiting()
    user = await user_id_of(app, "tv")
    async with app.sessions() as s:
        assert (await s.get(m.User, user)).role == "teacher"  # type: ignore[union-attr]  # the role stays
    await write_letter(student)
    assert "thư mới" in w.chat("tv").waiting()

    # Removing the designation takes the letters away from them.
    screen = await admin.send("/tuvan")
    screen = await admin.send(option_number(screen, "Bỏ chọn Cô Tư Vấn"))
    assert "Đã bỏ chọn" in screen
    screen = await w.chat("tv").send("/hopthu")
    assert LETTER not in screen and "Thư số" not in screen


async def test_only_a_school_admin_names_counsellors_and_only_staff_of_their_school(app: App) -> None:
    w = await world(app, counsellors=False)
    for who in ("gv", "hs", "btc"):
        screen = await w.chat(who).send("/tuvan")
        assert "Chỉ quản trị trường mới chọn được thầy/cô tư vấn" in screen
    gv2, qt, hs = [await user_id_of(app, who) for who in ("gv2", "qt", "hs")]
    async with app.uow_factory() as uow:
        admin = await uow.users.get(qt)
        assert admin is not None
        with pytest.raises(Refusal):
            await mailbox.name_counsellor(uow, admin, gv2, app.clock())  # a teacher of another school
        with pytest.raises(Refusal):
            await mailbox.name_counsellor(uow, admin, hs, app.clock())  # a student
    async with app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(m.MailboxCounsellor))).scalar_one() == 1  # gv2's


async def test_bad_input_at_every_prompt_gets_a_clear_answer_and_changes_nothing(app: App) -> None:
    w = await world(app)
    student = w.chat("hs")
    before = await row_counts(app)
    screen = await student.send("/hopthu")
    screen = await student.send(option_number(screen, "Viết thư mới"))
    assert "Em chọn một số từ 1 đến 6" in await student.send("9")
    assert "Mình chưa hiểu ý em" in await student.send("xyz")
    screen = await student.send(option_number(screen, "Bị bắt nạt"))
    assert "Em chọn một số từ 1 đến 3" in await student.send("7")
    screen = await student.send(option_number(screen, "ẩn danh"))
    assert "Em chọn một số từ 1 đến 3" in await student.send("0")
    screen = await student.send(option_number(screen, "Không gấp"))
    for bad in ("   ", "??", "😢", "x" * 1200):
        answer = await student.send(bad)
        assert "Em viết vài chữ" in answer or "Tin nhắn dài quá" in answer or "chưa gõ gì" in answer
    after = await row_counts(app)
    changed = {k for k in after if after[k] != before[k]}
    assert changed <= {"conversations"}, changed
    screen = await student.send("Hủy")
    assert "Hộp thư an toàn" in screen and await cases(app) == []

    # The counsellor's reply prompt refuses an empty reply; an old button changes nothing.
    await write_letter(student)
    (case,) = await cases(app)
    counsellor = w.chat("tv")
    screen = await counsellor.send("/hopthu")
    screen = await counsellor.send(option_number(screen, f"Thư số {case.id}"))
    await counsellor.send(option_number(screen, "Trả lời"))
    before = await row_counts(app)
    assert "Thầy/cô gõ lời trả lời" in await counsellor.send("!!")
    after = await row_counts(app)
    assert after["mailbox_messages"] == before["mailbox_messages"] and after["notices"] == before["notices"]


async def test_the_letter_is_not_kept_in_the_stored_update_nor_anywhere_but_its_thread(app: App) -> None:
    """Through the inbox, as a platform channel runs it: the update that carried the letter forgets its text."""
    w = await world(app)
    student = w.chat("hs")
    screen = await student.send("/hopthu")
    screen = await student.send(option_number(screen, "Viết thư mới"))
    screen = await student.send(option_number(screen, "Bị bắt nạt"))
    screen = await student.send(option_number(screen, "ẩn danh"))
    await student.send(option_number(screen, "Không gấp"))
    from bot.core.events import IncomingEvent

    async with app.sessions() as s:
        row = m.InboundUpdate(
            channel="console",
            bot_id="test",
            external_id="letter-1",
            payload={"message": {"from": {"id": "hs"}, "text": LETTER}},
            status="pending",
            attempts=0,
            received_at=app.clock(),
        )
        s.add(row)
        await s.commit()
        inbox_id = row.id
    replies = await app.dispatcher.handle(IncomingEvent.text_message(student.address(), LETTER), inbox_id=inbox_id)
    assert replies and "Thư của em đã đến" in replies[-1].text
    text = await stored_text(app, skip=("mailbox_messages",))
    assert LETTER not in text
    async with app.sessions() as s:
        assert (await s.execute(select(m.MailboxMessage.body))).scalar_one() == LETTER


async def test_a_child_can_write_more_and_the_counsellors_are_told(app: App) -> None:
    w = await world(app)
    student = w.chat("hs")
    await write_letter(student)
    w.chat("tv").waiting()
    (case,) = await cases(app)
    screen = await student.send("/hopthu")
    screen = await student.send(option_number(screen, "Thư em đã gửi"))
    screen = await student.send(option_number(screen, f"Thư số {case.id}"))
    screen = await student.send(option_number(screen, "Viết thêm"))
    screen = await student.send("Hôm nay bạn ấy lại chặn em ở cổng trường")
    assert "Mình đã gửi thêm" in screen
    assert_hotlines(screen)
    assert f"viết thêm vào thư số {case.id}" in w.chat("tv").waiting()


async def test_a_child_in_distress_on_the_menu_is_offered_the_mailbox_beside_the_hotlines(app: App) -> None:
    w = await world(app)
    student = w.chat("hs")
    screen = await student.send("em bị các bạn đánh, em sợ lắm")
    assert_hotlines(screen)
    screen = await student.send(option_number(screen, "Viết thư cho thầy cô tư vấn"))
    assert "Chuyện em muốn kể là về việc gì?" in screen
    # Words of the understanding file open it too.
    await student.send("/menu")
    assert "Hộp thư an toàn" in await student.send("em muốn gửi thư cho thầy cô tư vấn")


async def test_a_counsellor_who_leaves_the_school_no_longer_reads_its_letters(app: App) -> None:
    w = await world(app)
    await write_letter(w.chat("hs"))
    tv = await user_id_of(app, "tv")
    async with app.uow_factory() as uow:
        await uow.users.update(tv, school_id=w.other_school_id)
        await uow.commit()
    screen = await w.chat("tv").send("/hopthu")
    assert LETTER not in screen and "Thư số" not in screen
    new = await add_staff(app, "tv3", "Cô Mới", "teacher", w.school_id)
    assert new  # a teacher not named sees nothing either
    assert "Thư số" not in await w.chat("tv3").send("/hopthu")


async def test_an_english_speaking_child_writes_in_english_and_the_counsellor_reads_in_vietnamese(app: App) -> None:
    w = await world(app)
    hs = await user_id_of(app, "hs")
    async with app.uow_factory() as uow:
        await uow.users.update(hs, locale="en")
        await uow.commit()
    student = w.chat("hs")
    screen = await student.send("/mailbox")
    assert "Safe mailbox" in screen and "Only the counsellor can read your letter" in screen
    screen = await student.send(option_number(screen, "Write a new letter"))
    screen = await student.send(option_number(screen, "Being bullied"))
    screen = await student.send(option_number(screen, "Send anonymously"))
    screen = await student.send(option_number(screen, "Urgent"))
    screen = await student.send("Someone in my class keeps hitting me")
    assert (
        "Your letter has reached your school counsellor" in screen
        and "Call 111 now – National child protection" in screen
    )
    assert "chưa" not in screen and "Thư" not in screen
    assert "có thư KHẨN (bị bắt nạt)" in w.chat("tv").waiting()


async def test_a_child_who_withdrew_consent_gets_the_hotlines_and_no_letter_is_kept(app: App) -> None:
    w = await world(app)
    student = w.chat("hs")
    screen = await student.send("/privacy")
    screen = await student.send(option_number(screen, "Rút lại đồng ý"))
    await student.send(option_number(screen, "Rút lại đồng ý"))
    screen = await student.send("/hopthu")
    screen = await student.send(option_number(screen, "Viết thư mới"))
    assert_hotlines(screen)
    assert "Em đã rút lại đồng ý" in screen and "Em có đồng ý không?" in screen
    assert await cases(app) == []


async def test_the_conversation_state_keeps_no_word_of_a_letter(app: App) -> None:
    """What is shown again after a wrong answer is stored with the conversation: the thread is never part of it."""
    w = await world(app)
    student, counsellor = w.chat("hs"), w.chat("tv")
    await write_letter(student)
    (case,) = await cases(app)
    screen = await counsellor.send("/hopthu")
    screen = await counsellor.send(option_number(screen, f"Thư số {case.id}"))
    assert LETTER in screen
    screen = await counsellor.send(option_number(screen, "Trả lời"))
    await counsellor.send(REPLY)
    screen = await student.send("/hopthu")
    screen = await student.send(option_number(screen, "Thư em đã gửi"))
    screen = await student.send(option_number(screen, f"Thư số {case.id}"))
    assert LETTER in screen and REPLY in screen
    assert "Viết thêm" in await student.send("99")  # the prompt again, without the thread
    text = await stored_text(app, skip=("mailbox_messages",))
    assert LETTER not in text and REPLY not in text
