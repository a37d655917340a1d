"""The console's page of one class's students: confirming the uncertain matches between students who joined and
the roster's rows, and each student's consent (the child's and the guardian's), where a teacher records the
guardian's signed paper form. The rules are the roster and privacy services', the same the chat follows; the
page shows the names as the class knows them and nothing else about the children."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.accounts.consent import CHILD, GUARDIAN, PAPER_FORM
from bot.accounts.ports import ClassRec, ConsentRec
from bot.broadcasts import roster
from bot.core.errors import NO_NAME, Refusal
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.privacy import consent
from bot.web.classes import managed
from bot.web.render import DEPS, USER, page, refusal

NOT_IN_CLASS = N_("Học sinh này không ở trong lớp của thầy/cô.")
BAD_CHOICE = N_("Thầy/cô chọn một học sinh và một dòng của danh sách lớp rồi bấm “Ghép” nhé.")
DONE = {
    "ghep": N_("Đã ghép học sinh với danh sách lớp."),
    "khong-co": N_("Đã ghi nhận: {name} không có trong danh sách lớp. Khi nhập danh sách mới, trang này sẽ hỏi lại."),
    "dong-y": N_("Đã ghi nhận phiếu đồng ý số {ref} cho {name}."),
    "da-co": N_("{name} đã có đồng ý của phụ huynh từ trước; không ghi thêm."),
}


@dataclass(frozen=True)
class StudentRow:
    """One student as the page shows them: the name the class knows, and where their consent stands."""

    id: int
    name: str
    child: bool
    guardian: ConsentRec | None
    withdrawn: bool  # the family withdrew: processing stopped and the data is queued for deletion


def _int(value: Any) -> int | None:
    text = value if isinstance(value, str) else ""
    return int(text) if text.isdigit() and len(text) < 19 else None


async def _rows(uow: Any, klass: ClassRec, no_name: str) -> list[StudentRow]:
    students: list[UserRec] = await uow.privacy.class_members(klass.id)
    on_roster = {e.user_id: e.full_name for e in await uow.rosters.entries(klass.id) if e.user_id is not None}
    withdrawn = await consent.erasure_pending(uow, [s.id for s in students])
    rows = []
    for s in students:
        active = [c for c in await uow.consents.active(s.id) if c.withdrawn_at is None]
        guardian = next((c for c in active if c.kind == GUARDIAN), None)
        name = on_roster.get(s.id) or s.display_name or no_name
        rows.append(StudentRow(s.id, name, any(c.kind == CHILD for c in active), guardian, s.id in withdrawn))
    return rows


async def _page(
    request: web.Request,
    uow: Any,
    klass: ClassRec,
    status: int = 200,
    notice: str = "",
    alert: str = "",
    errors: dict[int, str] | None = None,
    typed: dict[int, str] | None = None,
) -> web.Response:
    """The page; matches that are certain are linked first, as the chat does when it shows a class (a refused
    form keeps even those for the next visit: nothing changes when it is refused)."""
    deps = request.app[DEPS]
    pending = await roster.auto_link(uow, klass.id)
    if status == 200:
        await uow.commit()
    no_name = deps.i18n.gettext(request[USER].locale, NO_NAME)
    students = await _rows(uow, klass, no_name)
    return page(
        request,
        "students.html",
        status=status,
        klass=klass,
        pending=pending,
        students=students,
        notice=notice,
        alert=alert,
        errors=errors or {},
        typed=typed or {},
        paper=PAPER_FORM,
    )


async def students_page(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    gettext = _gettext(request)
    async with deps.uow_factory() as uow:
        klass = await managed(request, uow)
        if isinstance(klass, web.Response):
            return klass
        notice = ""
        done = request.query.get("xong", "")
        if done in DONE:
            student = _int(request.query.get("hs"))
            found = [r for r in await _rows(uow, klass, "") if r.id == student]
            ref = found[0].guardian.reference if found and found[0].guardian else ""
            notice = gettext(DONE[done]).format(name=found[0].name if found else "", ref=ref or "")
        return await _page(request, uow, klass, notice=notice)


def _gettext(request: web.Request) -> Any:
    deps, locale = request.app[DEPS], request[USER].locale
    return lambda message: deps.i18n.gettext(locale, message)


def _done(klass: ClassRec, what: str, student: int) -> web.Response:
    return web.Response(status=303, headers={"Location": f"/lop/{klass.id}/hoc-sinh?xong={what}&hs={student}"})


async def confirm_match(request: web.Request) -> web.StreamResponse:
    """The teacher says which roster row a student who joined is: the roster service's confirm_match."""
    deps = request.app[DEPS]
    form = await request.post()
    member, entry = _int(form.get("hoc_sinh")), _int(form.get("dong"))
    async with deps.uow_factory() as uow:
        klass = await managed(request, uow)
        if isinstance(klass, web.Response):
            return klass
        if member is None or entry is None:
            return await _page(request, uow, klass, 422, alert=_gettext(request)(BAD_CHOICE))
        try:
            await roster.confirm_match(uow, request[USER], klass.id, member, entry, deps.clock())
        except Refusal as exc:
            await uow.rollback()
            return await _page(request, uow, klass, 422, alert=exc.translated(_gettext(request)))
        await uow.commit()
    return _done(klass, "ghep", member)


async def not_on_roster(request: web.Request) -> web.StreamResponse:
    """The teacher says the student is on none of the rows: the roster service's not_on_roster, as in the chat."""
    deps = request.app[DEPS]
    member = _int((await request.post()).get("hoc_sinh"))
    async with deps.uow_factory() as uow:
        klass = await managed(request, uow)
        if isinstance(klass, web.Response):
            return klass
        try:
            await roster.not_on_roster(uow, request[USER], klass.id, member if member is not None else -1, deps.clock())
        except Refusal as exc:
            await uow.rollback()
            return await _page(request, uow, klass, 422, alert=exc.translated(_gettext(request)))
        await uow.commit()
    return _done(klass, "khong-co", member or 0)


async def record_consent(request: web.Request) -> web.StreamResponse:
    """The guardian's signed paper form, under its number: the privacy service's record_paper_form, which checks
    the number as the chat does and writes the consent and its audit row."""
    deps = request.app[DEPS]
    form = await request.post()
    student, text = _int(form.get("hoc_sinh")), form.get("so_phieu")
    text = text if isinstance(text, str) else ""
    async with deps.uow_factory() as uow:
        klass = await managed(request, uow)
        if isinstance(klass, web.Response):
            return klass
        members = {s.id for s in await uow.privacy.class_members(klass.id)}
        if student is None or student not in members:
            return refusal(request, 404, NOT_IN_CLASS)
        if not deps.notice_version:
            raise RuntimeError("the web console was started without the privacy notice's version")
        try:
            _ref, recorded = await consent.record_paper_form(
                uow, request[USER], student, text, deps.notice_version, deps.clock()
            )
        except Refusal as exc:
            await uow.rollback()
            status = 422 if exc.message == consent.BAD_REFERENCE else 409
            message = exc.translated(_gettext(request))
            return await _page(request, uow, klass, status, errors={student: message}, typed={student: text[:40]})
        await uow.commit()
    return _done(klass, "dong-y" if recorded else "da-co", student)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/lop/{klass}/hoc-sinh", students_page)
    app.router.add_post("/lop/{klass}/ghep", confirm_match)
    app.router.add_post("/lop/{klass}/khong-co", not_on_roster)
    app.router.add_post("/lop/{klass}/dong-y", record_consent)
