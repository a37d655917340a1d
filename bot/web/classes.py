"""The console's class pages: a teacher's (or a school admin's) classes with their join code and link, a
printable page with a QR code for the classroom wall, and a roster sheet uploaded with every row error shown
before anything changes. Who may manage a class is the roster service's rule, as in the chat."""

from __future__ import annotations

import io
from functools import partial
from typing import Any

from aiohttp import web

from bot.accounts.ports import ClassRec
from bot.broadcasts import roster
from bot.broadcasts.roster_xlsx import RosterFileError, read_roster
from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.core.roles import SCHOOL_STAFF
from bot.web.render import DEPS, USER, page, refusal

FOR_SCHOOL_STAFF = N_("Trang lớp học dành cho giáo viên và quản trị trường.")
NO_CLASS = N_("Không tìm thấy lớp này trong các lớp thầy/cô quản lý.")
NO_FILE = N_("Thầy/cô chọn tệp Excel (.xlsx) danh sách lớp rồi bấm “Tải lên”.")
MAX_ROSTER = 1024 * 1024  # a class sheet is a few kilobytes


def join_link(request: web.Request, code: str) -> str:
    """The Telegram link that starts the bot with the class code, when the bot's username is known."""
    username = request.app[DEPS].bot_username()
    return f"https://t.me/{username}?start={code}" if username else ""


def qr_svg(text: str) -> str:
    out = io.BytesIO()
    import segno  # loads with the first poster

    segno.make(text, error="m").save(out, kind="svg", scale=8, xmldecl=False, svgclass="qr", title="QR")
    return out.getvalue().decode()


async def class_list(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    if user.role not in SCHOOL_STAFF:
        return refusal(request, 403, FOR_SCHOOL_STAFF)
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        classes = await roster.visible_classes(uow, user)
        counts = {c.id: await uow.classes.member_count(c.id) for c in classes}
        entries = {c.id: await uow.rosters.entries(c.id) for c in classes}
    links = {c.id: join_link(request, c.join_code) for c in classes}
    return page(request, "classes.html", classes=classes, counts=counts, entries=entries, links=links)


async def managed(request: web.Request, uow: Any) -> ClassRec | web.Response:
    """The class in the URL if the user may manage it; otherwise the page that says so (the same for a class
    that does not exist and another teacher's)."""
    raw = request.match_info["klass"]
    if request[USER].role not in SCHOOL_STAFF:
        return refusal(request, 403, FOR_SCHOOL_STAFF)
    try:
        return await roster.managed_class(uow, request[USER], int(raw) if raw.isdigit() else -1)
    except Refusal:
        return refusal(request, 404, NO_CLASS)


async def class_poster(request: web.Request) -> web.StreamResponse:
    async with request.app[DEPS].uow_factory() as uow:
        klass = await managed(request, uow)
    if isinstance(klass, web.Response):
        return klass
    link = join_link(request, klass.join_code)
    return page(request, "poster.html", klass=klass, link=link, qr=qr_svg(link) if link else "")


async def roster_upload(request: web.Request) -> web.StreamResponse:
    """All rows or none: a sheet with any bad row changes nothing and names every bad row."""
    deps = request.app[DEPS]
    form = await request.post()
    sheet = form.get("tep")
    data = sheet.file.read(MAX_ROSTER + 1) if isinstance(sheet, web.FileField) else b""
    async with deps.uow_factory() as uow:
        klass = await managed(request, uow)
        if isinstance(klass, web.Response):
            return klass
        errors: list[str] = []
        result = None
        if not data:
            errors = [deps.i18n.gettext(request[USER].locale, NO_FILE)]
        elif len(data) > MAX_ROSTER:
            errors = [deps.i18n.gettext(request[USER].locale, N_("Tệp quá lớn (tối đa 1 MB)."))]
        else:
            try:
                rows = read_roster(data)
            except RosterFileError as exc:
                errors = [str(exc)]
            else:
                locale = request[USER].locale
                result = await roster.import_roster(
                    uow, request[USER], klass.id, rows, deps.clock(), partial(deps.i18n.gettext, locale)
                )
                errors = result.errors
                if not errors:
                    await uow.commit()
    status = 422 if errors else 200
    return page(request, "roster_result.html", status=status, klass=klass, errors=errors, result=result)
