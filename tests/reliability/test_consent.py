"""PRIV-1: the child's agreement and the guardian's consent (paper form or parent link), each with time and
notice version; nothing is ever pre-selected or inferred from silence; withdrawal stops processing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.accounts.consent import consent_status
from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession
from db import models as m
from tests.reliability.helpers import (
    code_in,
    consents_of,
    new_student,
    option_number,
    row_counts,
    user_id_of,
)

pytestmark = pytest.mark.reliability


async def status(app: App, user_id: int) -> tuple[bool, bool]:
    async with app.uow_factory() as uow:
        return await consent_status(uow, user_id)


async def test_the_childs_agreement_needs_an_explicit_tap_and_records_time_and_notice_version(app: App) -> None:
    await seed_demo(app.uow_factory, app.clock)
    child = ConsoleSession(app.dispatcher, user="hs")
    await child.send("/start")
    screen = await child.send("1")  # Tiếng Việt
    assert "Em có đồng ý không?" in screen
    # Two explicit choices, neither chosen for the child; silence, other words and menus record nothing.
    assert [line.strip()[3:] for line in screen.splitlines() if line.startswith("  ")] == [
        "✅ Em đồng ý",
        "Em chưa đồng ý",
    ]
    uid = await user_id_of(app, "hs")
    for not_a_yes in ("ok", "/menu", "/practice", "   "):
        await child.send(not_a_yes)
    assert await consents_of(app, uid) == []
    screen = await child.send("/start")
    screen = await child.send(option_number(screen, "Tiếng Việt"))
    await child.send(option_number(screen, "Em chưa đồng ý"))
    assert await consents_of(app, uid) == []

    screen = await child.send("/start")
    screen = await child.send(option_number(screen, "Tiếng Việt"))
    await child.send(option_number(screen, "Em đồng ý"))
    (row,) = await consents_of(app, uid)
    assert (row.kind, row.method, row.notice_version) == ("child", "in_chat", "2026-01")
    assert row.given_at == app.clock() and row.withdrawn_at is None
    assert await status(app, uid) == (True, False)


async def test_teacher_records_the_signed_paper_form_for_a_student_of_their_class(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    await new_student(app, "hs", demo.class_code, "Nguyễn Văn An")
    uid = await user_id_of(app, "hs")
    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send("/consent")
    screen = await teacher.send(option_number(screen, "7A"))
    assert "👧 Nguyễn Văn An" in screen
    screen = await teacher.send(option_number(screen, "Nguyễn Văn An"))
    screen = await teacher.send(option_number(screen, "Đã có phiếu đồng ý của phụ huynh"))
    before = await row_counts(app)
    screen = await teacher.send("Trần Thị Mẹ")  # a name, not a form number: refused, nothing stored
    assert "ít nhất một chữ số" in screen
    assert await row_counts(app) == before
    screen = await teacher.send("7a-12")
    assert "Đã ghi nhận phiếu đồng ý số 7A-12 cho Nguyễn Văn An" in screen
    assert "✅ Nguyễn Văn An" in screen
    guardian = [c for c in await consents_of(app, uid) if c.kind == "guardian"]
    assert len(guardian) == 1
    g = guardian[0]
    assert (g.method, g.reference, g.notice_version, g.given_at) == ("paper_form", "7A-12", "2026-01", app.clock())
    assert g.recorded_by == await user_id_of(app, "gv")
    assert await status(app, uid) == (True, True)


async def test_staff_without_the_class_and_students_cannot_record_consent(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = await new_student(app, "hs", demo.class_code, "Nguyễn Văn An")
    assert "chỉ dành cho thầy cô" in await student.send("/consent")
    organizer = ConsoleSession(app.dispatcher, user="btc")
    assert "chỉ dành cho thầy cô" in await organizer.send("/consent")
    assert await status(app, await user_id_of(app, "hs")) == (True, False)


async def test_a_parent_consents_once_through_a_one_time_link_on_their_own_account(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = await new_student(app, "hs", demo.class_code, "Nguyễn Văn An")
    uid = await user_id_of(app, "hs")
    screen = await student.send("/privacy")
    assert "Đồng ý của bố mẹ: chưa có" in screen
    screen = await student.send(option_number(screen, "Mã để bố mẹ đồng ý"))
    code = code_in(screen)

    # The child cannot consent for the parent, even with the code.
    screen = await student.send(f"/start {code}")
    assert "Mã này dành cho bố mẹ" in screen
    assert await status(app, uid) == (True, False)

    parent = ConsoleSession(app.dispatcher, user="phuhuynh")
    screen = await parent.send(f"/start {code.lower()}")
    assert "Kính chào quý phụ huynh" in screen and "Nguyễn Văn An (lớp 7A" in screen
    assert "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15" in screen
    screen = await parent.send(option_number(screen, "Tôi đồng ý"))
    assert "đã ghi nhận sự đồng ý cho con Nguyễn Văn An" in screen
    guardian = [c for c in await consents_of(app, uid) if c.kind == "guardian"]
    pid = await user_id_of(app, "phuhuynh")
    assert [(c.method, c.notice_version, c.given_at, c.recorded_by) for c in guardian] == [
        ("parent_link", "2026-01", app.clock(), pid)
    ]
    assert await status(app, uid) == (True, True)
    async with app.sessions() as s:
        parent_row = await s.get(m.User, pid)
        assert parent_row is not None and parent_row.role == "parent"
        assert (await s.execute(select(m.Membership).where(m.Membership.user_id == pid))).first() is None

    # One time only: a second opening of the same code is refused and writes nothing.
    other = ConsoleSession(app.dispatcher, user="nguoikhac")
    await other.send("/menu")
    before = await row_counts(app)
    assert "đã được dùng hoặc đã hết hạn" in await other.send(f"/start {code}")
    assert await row_counts(app) == before


async def test_a_parent_who_declines_records_nothing_and_an_expired_code_is_refused(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    demo = await seed_demo(app.uow_factory, app.clock)
    student = await new_student(app, "hs", demo.class_code, "Nguyễn Văn An")
    screen = await student.send("/privacy")
    code = code_in(await student.send(option_number(screen, "Mã để bố mẹ đồng ý")))
    parent = ConsoleSession(app.dispatcher, user="phuhuynh")
    screen = await parent.send(f"/start {code}")
    await parent.send(option_number(screen, "Tôi không đồng ý"))
    uid = await user_id_of(app, "hs")
    assert await status(app, uid) == (True, False)
    clock.advance(days=15)
    assert "đã hết hạn" in await parent.send(f"/start {code}")
    assert await status(app, uid) == (True, False)


async def test_withdrawing_consent_stops_learning_and_queues_a_deletion_request(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = await new_student(app, "hs", demo.class_code, "Nguyễn Văn An")
    uid = await user_id_of(app, "hs")
    screen = await student.send("/privacy")
    screen = await student.send(option_number(screen, "Rút lại đồng ý"))
    assert "chắc chắn" in screen
    screen = await student.send(option_number(screen, "Rút lại đồng ý"))
    assert "Đã rút lại đồng ý" in screen
    assert await status(app, uid) == (False, False)
    async with app.sessions() as s:
        requests = (await s.execute(select(m.PrivacyRequest).where(m.PrivacyRequest.user_id == uid))).scalars().all()
    assert sorted((r.kind, r.status) for r in requests) == [("erase", "pending"), ("withdraw", "done")]
    erase = next(r for r in requests if r.kind == "erase")
    assert (erase.due_at - erase.requested_at).days == 20

    before = await row_counts(app)
    for entry in ("/practice", "/lessons", "/progress"):
        screen = await student.send(entry)
        assert "Em đã rút lại đồng ý nên mình tạm dừng" in screen and "Em có đồng ý không?" in screen
    after = await row_counts(app)
    assert after["quiz_attempts"] == before["quiz_attempts"] and after["lesson_progress"] == before["lesson_progress"]
    assert after["consents"] == before["consents"]

    # Agreeing again (an explicit tap) lets the child learn again.
    screen = await student.send(option_number(screen, "Em đồng ý"))
    assert "Em lại học cùng mình được rồi" in screen
    assert (await status(app, uid))[0] is True
    screen = await student.send("/practice")
    assert "Em muốn luyện tập chủ đề nào" in screen
