"""A class's students in the web console: the uncertain matches with the roster confirmed by the teacher, and
the guardian's signed paper form recorded under its number, through the roster and privacy services the chat
uses. Bad input and every forbidden path (another teacher's class, another school, an organizer, a student,
no CSRF token) answer with the right status and change no row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.core.roles import Role
from bot.core.text import fold
from bot.privacy import service as privacy
from bot.web.service import digest
from db import models as m
from tests.reliability.helpers import option_number
from tests.web.conftest import csrf_of, link_for, origin, sign_in
from tests.web.test_classes import sheet


async def demo_class(app: App) -> int:
    async with app.sessions() as s:
        return (await s.scalars(select(m.SchoolClass).where(m.SchoolClass.name == "7A"))).one().id


async def join(app: App, external_id: str, name: str, class_id: int, child: bool = True) -> int:
    """A student who joined the class in the chat (and agreed there, unless `child` is False)."""
    now = app.clock()
    async with app.uow_factory() as uow:
        user = await uow.users.create("telegram", external_id, external_id, "vi", now)
        await uow.users.update(user.id, display_name=name, onboarded=True)
        await uow.classes.add_member(user.id, class_id, now)
        if child:
            await uow.consents.add(user.id, "child", "in_chat", "2026-01", now)
        await uow.commit()
        return user.id


async def roster(app: App, class_id: int, rows: list[tuple[str, str | None]]) -> dict[str, int]:
    """Roster rows of the class, by student code."""
    async with app.uow_factory() as uow:
        await uow.rosters.add_entries(class_id, [(name, fold(name), code) for name, code in rows], app.clock())
        await uow.commit()
    return {e.student_code or e.full_name: e.id for e in await entries(app, class_id)}


async def entries(app: App, class_id: int) -> list[Any]:
    async with app.uow_factory() as uow:
        return list(await uow.rosters.entries(class_id))


async def other_class(app: App, teacher: str, class_name: str, own_school: bool) -> int:
    """A class of another teacher, in the demo school or in another school."""
    now = app.clock()
    async with app.uow_factory() as uow:
        demo = await uow.users.by_account("console", "gv")
        assert demo is not None and demo.school_id is not None
        school_id = demo.school_id if own_school else (await uow.schools.create("THCS Bên Kia", now)).id
        user = await uow.users.create("console", teacher, teacher, "vi", now, role=Role.TEACHER)
        await uow.users.update(user.id, display_name="Cô Khác", onboarded=True, school_id=school_id)
        klass = await uow.classes.create(school_id, user.id, class_name, 7, "2026-2027", f"K{teacher.upper()}9", now)
        await uow.commit()
        return klass.id


async def state(app: App) -> tuple[Any, ...]:
    """Every row these pages may change: consents, roster links, privacy requests, the audit log."""
    async with app.sessions() as s:
        consents = (await s.execute(select(m.Consent.user_id, m.Consent.kind, m.Consent.withdrawn_at))).all()
        links = (await s.execute(select(m.RosterEntry.id, m.RosterEntry.user_id))).all()
        requests = (await s.execute(select(m.PrivacyRequest.id, m.PrivacyRequest.status))).all()
        audit = (await s.execute(select(m.AuditLog.id))).all()
    return sorted(consents, key=str), sorted(links), sorted(requests), len(audit)


async def guardian_of(app: App, user_id: int) -> list[m.Consent]:
    async with app.sessions() as s:
        rows = await s.scalars(select(m.Consent).where(m.Consent.user_id == user_id, m.Consent.kind == "guardian"))
        return list(rows)


async def actions(app: App, action: str) -> list[m.AuditLog]:
    async with app.sessions() as s:
        return list(await s.scalars(select(m.AuditLog).where(m.AuditLog.action == action)))


async def signed_in(app: App, client: TestClient[Any, Any], who: str, class_id: int) -> str:
    """Sign `who` in and open the class's students page: its CSRF token."""
    await sign_in(client, await link_for(app, who))
    response = await client.get(f"/lop/{class_id}/hoc-sinh")
    assert response.status == 200, await response.text()
    return csrf_of(await response.text())


async def post(client: TestClient[Any, Any], path: str, **data: str) -> tuple[int, str]:
    response = await client.post(path, data=data, headers=origin(client), allow_redirects=False)
    return response.status, await response.text()


async def withdrawn(app: App, user_id: int) -> None:
    """The family withdrew in the chat: consents withdrawn, the deletion queued (as `consent.withdraw` does)."""
    now = app.clock()
    async with app.uow_factory() as uow:
        await uow.consents.withdraw(user_id, now)
        await privacy.open_request(uow, user_id, user_id, privacy.ERASE, now)
        await uow.commit()


async def test_the_page_lists_the_uncertain_matches_and_each_students_consent(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    class_id = await demo_class(web_app)
    rows = await roster(
        web_app, class_id, [("Nguyễn Văn An", "HS01"), ("Nguyễn Văn An", "HS02"), ("Lê Thị Bình", "HS03")]
    )
    await join(web_app, "an", "Nguyễn Văn An", class_id)  # two rows of that name: the teacher decides
    binh = await join(web_app, "binh", "Lê Thị Bình", class_id)  # one row: linked when the page is shown
    khoa = await join(web_app, "khoa", "Trần Minh Khoa", class_id, child=False)
    await withdrawn(web_app, await join(web_app, "dung", "Phạm Văn Dũng", class_id))
    await sign_in(client, await link_for(web_app, "gv"))
    assert f'href="/lop/{class_id}/hoc-sinh"' in await (await client.get("/lop")).text()
    response = await client.get(f"/lop/{class_id}/hoc-sinh")
    html = await response.text()
    assert response.status == 200
    assert "Học sinh “Nguyễn Văn An” đã vào lớp 7A" in html
    assert f'value="{rows["HS01"]}"' in html and f'value="{rows["HS02"]}"' in html
    assert f'value="{rows["HS03"]}"' not in html  # Bình's row is no candidate: it was linked
    assert {e.id: e.user_id for e in await entries(web_app, class_id)}[rows["HS03"]] == binh
    # Each student: the name the class knows, the child's and the guardian's consent; a form where none is there.
    assert html.count('name="so_phieu"') == 3  # An, Bình, Khoa; not Dũng, whose family withdrew
    assert f'id="phieu{khoa}"' in html and "Gia đình đã rút lại đồng ý; dữ liệu của em đang chờ xóa." in html
    assert "đã rút lại" in html and "chưa có" in html
    assert "telegram" not in html and ">an<" not in html  # no account ids on the page


async def test_a_teacher_confirms_a_match_through_the_roster_service(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    class_id = await demo_class(web_app)
    rows = await roster(web_app, class_id, [("Nguyễn Văn An", "HS01"), ("Nguyễn Văn An", "HS02")])
    an = await join(web_app, "an", "Nguyễn Văn An", class_id)
    elsewhere = await other_class(web_app, "gv2", "7B", own_school=True)
    foreign_row = (await roster(web_app, elsewhere, [("Nguyễn Văn An", "B01")]))["B01"]
    stranger = await join(web_app, "la", "Nguyễn Văn An", elsewhere)
    csrf = await signed_in(web_app, client, "gv", class_id)
    before = await state(web_app)
    path = f"/lop/{class_id}/ghep"
    for bad in (
        {"hoc_sinh": str(an)},  # no row chosen
        {"hoc_sinh": "x", "dong": str(rows["HS02"])},
        {"hoc_sinh": str(an), "dong": str(foreign_row)},  # a row of another class
        {"hoc_sinh": str(stranger), "dong": str(rows["HS02"])},  # a student of another class
        {"hoc_sinh": "999999", "dong": str(rows["HS02"])},
    ):
        status, text = await post(client, path, csrf=csrf, **bad)
        assert status == 422, (bad, text)
        assert "Không ghép được" in text or "Thầy/cô chọn một học sinh" in text
    assert await state(web_app) == before

    status, _text = await post(client, path, csrf=csrf, hoc_sinh=str(an), dong=str(rows["HS02"]))
    assert status == 303
    linked = {e.id: e.user_id for e in await entries(web_app, class_id)}
    assert linked == {rows["HS01"]: None, rows["HS02"]: an}
    assert [a.scope for a in await actions(web_app, "roster.link")] == [f"class:{class_id}"]
    page = await (await client.get(f"/lop/{class_id}/hoc-sinh?xong=ghep&hs={an}")).text()
    assert "Đã ghép học sinh với danh sách lớp." in page and "Không còn học sinh nào cần xác nhận." in page
    # The same row twice: refused, nothing changes.
    before = await state(web_app)
    status, text = await post(client, path, csrf=csrf, hoc_sinh=str(an), dong=str(rows["HS02"]))
    assert status == 422 and "đã được ghép rồi" in text
    assert await state(web_app) == before


async def test_a_student_on_none_of_the_rows_is_not_offered_again_until_a_new_sheet(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    class_id = await demo_class(web_app)
    await roster(web_app, class_id, [("Nguyễn Văn An", "HS01"), ("Nguyễn Văn An", "HS02")])
    an = await join(web_app, "an", "Nguyễn Văn An", class_id)
    elsewhere = await other_class(web_app, "gv2", "7B", own_school=True)
    stranger = await join(web_app, "la", "Nguyễn Văn An", elsewhere)
    csrf = await signed_in(web_app, client, "gv", class_id)
    before = await state(web_app)
    for bad in ({"hoc_sinh": str(stranger)}, {"hoc_sinh": "999999"}, {"hoc_sinh": ""}, {}):
        status, text = await post(client, f"/lop/{class_id}/khong-co", csrf=csrf, **bad)
        assert status == 422 and "Học sinh này không còn chờ xác nhận." in text, bad
    status, _t = await post(client, f"/lop/{elsewhere}/khong-co", csrf=csrf, hoc_sinh=str(stranger))
    assert status == 404
    status, _t = await post(client, f"/lop/{class_id}/khong-co", hoc_sinh=str(an))  # no CSRF token
    assert status == 403
    assert await state(web_app) == before

    status, _t = await post(client, f"/lop/{class_id}/khong-co", csrf=csrf, hoc_sinh=str(an))
    assert status == 303
    page = await (await client.get(f"/lop/{class_id}/hoc-sinh?xong=khong-co&hs={an}")).text()
    assert "Nguyễn Văn An không có trong danh sách lớp" in page and "Không còn học sinh nào cần xác nhận." in page
    assert [e.user_id for e in await entries(web_app, class_id)] == [None, None]
    assert [a.scope for a in await actions(web_app, "roster.unlisted")] == [f"class:{class_id}"]
    # A new sheet: the student may be on it, so the page asks again.
    form = sheet([("Nguyễn Văn Anh", "HS03")], csrf)
    assert (await client.post(f"/lop/{class_id}/danh-sach", data=form, headers=origin(client))).status == 200
    page = await (await client.get(f"/lop/{class_id}/hoc-sinh")).text()
    assert "Học sinh “Nguyễn Văn An” đã vào lớp 7A" in page


async def test_a_teacher_records_the_signed_paper_form_as_the_chat_does(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    class_id = await demo_class(web_app)
    an = await join(web_app, "an", "Nguyễn Văn An", class_id)
    dung = await join(web_app, "dung", "Phạm Văn Dũng", class_id)
    await withdrawn(web_app, dung)
    stranger = await join(web_app, "la", "Người Lớp Khác", await other_class(web_app, "gv2", "7B", own_school=True))
    csrf = await signed_in(web_app, client, "gv", class_id)
    path = f"/lop/{class_id}/dong-y"
    before = await state(web_app)
    for ref in ("", "   ", "Trần Thị Mẹ", "7A-12<script>", "1" * 33):  # a name is not a form number
        status, text = await post(client, path, csrf=csrf, hoc_sinh=str(an), so_phieu=ref)
        assert status == 422, (ref, text)
        assert "có ít nhất một chữ số, tối đa 32 ký tự" in text and 'aria-invalid="true"' in text
    for student in (str(stranger), "999999", "abc", ""):
        status, text = await post(client, path, csrf=csrf, hoc_sinh=student, so_phieu="7A-12")
        assert status == 404 and "Học sinh này không ở trong lớp của thầy/cô." in text
    status, text = await post(client, path, csrf=csrf, hoc_sinh=str(dung), so_phieu="7A-13")
    assert status == 409 and "đã rút lại đồng ý" in text  # the family said no: an old form does not undo it
    assert await state(web_app) == before

    status, _text = await post(client, path, csrf=csrf, hoc_sinh=str(an), so_phieu=" 7a-12 ")
    assert status == 303
    (form,) = await guardian_of(web_app, an)
    gv = await teacher_id(web_app)
    assert (form.method, form.reference, form.notice_version, form.recorded_by) == (
        "paper_form",
        "7A-12",
        "2026-01",
        gv,
    )
    assert form.given_at == web_app.clock() and form.withdrawn_at is None
    (audit,) = await actions(web_app, "consent.record")
    assert (audit.actor_id, audit.scope, audit.detail) == (
        gv,
        f"user:{an}",
        {"kind": "guardian", "method": "paper_form"},
    )
    page = await (await client.get(f"/lop/{class_id}/hoc-sinh?xong=dong-y&hs={an}")).text()
    assert "Đã ghi nhận phiếu đồng ý số 7A-12 cho Nguyễn Văn An." in page and "phiếu giấy số 7A-12" in page
    # Once only: a second form for the same student writes nothing.
    before = await state(web_app)
    status, _text = await post(client, path, csrf=csrf, hoc_sinh=str(an), so_phieu="7A-99")
    assert status == 303 and await state(web_app) == before
    assert (
        "đã có đồng ý của phụ huynh từ trước"
        in await (await client.get(f"/lop/{class_id}/hoc-sinh?xong=da-co&hs={an}")).text()
    )


async def teacher_id(app: App) -> int:
    async with app.uow_factory() as uow:
        user = await uow.users.by_account("console", "gv")
        assert user is not None
        return user.id


async def test_only_who_manages_the_class_sees_or_changes_it(web_app: App, client: TestClient[Any, Any]) -> None:
    class_id = await demo_class(web_app)
    mine = await join(web_app, "an", "Nguyễn Văn An", class_id)
    row = (await roster(web_app, class_id, [("Nguyễn Văn Ann", "HS01")]))["HS01"]
    colleague = await other_class(web_app, "gv2", "7B", own_school=True)
    theirs = await join(web_app, "binh", "Lê Thị Bình", colleague)
    far = await other_class(web_app, "gv3", "8C", own_school=False)
    faraway = await join(web_app, "khoa", "Trần Minh Khoa", far)
    csrf = await signed_in(web_app, client, "gv", class_id)
    before = await state(web_app)

    # Another teacher's class, and a class of another school: not found, whatever the form says.
    for klass, student in ((colleague, theirs), (far, faraway)):
        response = await client.get(f"/lop/{klass}/hoc-sinh")
        assert response.status == 404 and "Không tìm thấy lớp này" in await response.text()
        status, _t = await post(client, f"/lop/{klass}/dong-y", csrf=csrf, hoc_sinh=str(student), so_phieu="7B-1")
        assert status == 404
        status, _t = await post(client, f"/lop/{klass}/ghep", csrf=csrf, hoc_sinh=str(student), dong=str(row))
        assert status == 404
    assert (await client.get("/lop/abc/hoc-sinh")).status == 404
    # No CSRF token, or someone else's: nothing is done.
    for token in ({}, {"csrf": "x" * 43}):
        status, text = await post(client, f"/lop/{class_id}/dong-y", hoc_sinh=str(mine), so_phieu="7A-1", **token)
        assert status == 403 and "biểu mẫu đã cũ" in text
        status, _t = await post(client, f"/lop/{class_id}/ghep", hoc_sinh=str(mine), dong=str(row), **token)
        assert status == 403
    assert await state(web_app) == before

    # The school admin manages every class of the school, not another school's.
    qt_csrf = await signed_in(web_app, client, "qt", colleague)
    before = await state(web_app)  # signing in wrote its audit row
    assert (await client.get(f"/lop/{far}/hoc-sinh")).status == 404
    status, _t = await post(client, f"/lop/{far}/dong-y", csrf=qt_csrf, hoc_sinh=str(faraway), so_phieu="8C-1")
    assert status == 404 and await state(web_app) == before
    status, _t = await post(client, f"/lop/{colleague}/dong-y", csrf=qt_csrf, hoc_sinh=str(theirs), so_phieu="7B-1")
    assert status == 303 and [f.reference for f in await guardian_of(web_app, theirs)] == ["7B-1"]

    # The district's organizer has no class pages.
    await sign_in(client, await link_for(web_app, "btc"))
    btc_csrf = csrf_of(await (await client.get("/")).text())
    before = await state(web_app)
    assert (await client.get(f"/lop/{class_id}/hoc-sinh")).status == 403
    status, _t = await post(client, f"/lop/{class_id}/dong-y", csrf=btc_csrf, hoc_sinh=str(mine), so_phieu="7A-1")
    assert status == 403 and await state(web_app) == before


async def test_a_student_or_parent_gets_no_session_and_changes_nothing(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    class_id = await demo_class(web_app)
    student = await join(web_app, "an", "Nguyễn Văn An", class_id)
    async with web_app.uow_factory() as uow:  # a sign-in link that somehow reached the student
        await uow.web.add_login(
            digest("leaked-token"), student, web_app.clock() + dt.timedelta(minutes=5), web_app.clock()
        )
        await uow.commit()
    before = await state(web_app)
    response = await client.post(
        "/dang-nhap", data={"t": "leaked-token"}, headers=origin(client), allow_redirects=False
    )
    assert response.status == 400 and "antt_sid" not in response.cookies
    assert (await client.get(f"/lop/{class_id}/hoc-sinh")).status == 401
    status, _t = await post(client, f"/lop/{class_id}/dong-y", csrf="x", hoc_sinh=str(student), so_phieu="7A-1")
    assert status == 403
    assert await state(web_app) == before
    # A teacher who is a parent now (or lost the role) loses the open session too.
    await sign_in(client, await link_for(web_app, "gv"))
    async with web_app.uow_factory() as uow:
        gv = await uow.users.by_account("console", "gv")
        assert gv is not None
        await uow.users.update(gv.id, role=Role.PARENT)
        await uow.commit()
    assert (await client.get(f"/lop/{class_id}/hoc-sinh")).status == 401


async def test_the_chat_refuses_a_paper_form_after_the_family_withdrew(web_app: App) -> None:
    class_id = await demo_class(web_app)
    dung = await join(web_app, "dung", "Phạm Văn Dũng", class_id)
    await withdrawn(web_app, dung)
    before = await state(web_app)
    teacher = ConsoleSession(web_app.dispatcher, user="gv")
    screen = await teacher.send("/consent")
    screen = await teacher.send(option_number(screen, "7A"))
    screen = await teacher.send(option_number(screen, "Phạm Văn Dũng"))
    screen = await teacher.send(option_number(screen, "Đã có phiếu đồng ý của phụ huynh"))
    screen = await teacher.send("7A-13")
    assert "đã rút lại đồng ý" in screen
    assert await state(web_app) == before


async def test_in_the_chat_too_a_student_on_none_of_the_rows_is_not_offered_again(web_app: App) -> None:
    class_id = await demo_class(web_app)
    await roster(web_app, class_id, [("Nguyễn Văn An", "HS01"), ("Nguyễn Văn An", "HS02")])
    an = await join(web_app, "an", "Nguyễn Văn An", class_id)
    teacher = ConsoleSession(web_app.dispatcher, user="gv")
    screen = await teacher.send("/classes")
    screen = await teacher.send(option_number(screen, "🏫 7A"))
    screen = await teacher.send(option_number(screen, "Xác nhận học sinh (1)"))
    screen = await teacher.send(option_number(screen, "Không có trong danh sách"))
    assert "em không có trong danh sách lớp" in screen and "Không còn học sinh nào cần xác nhận." in screen
    async with web_app.uow_factory() as uow:
        assert await uow.rosters.unlisted(class_id) == {an}
    assert [e.user_id for e in await entries(web_app, class_id)] == [None, None]
