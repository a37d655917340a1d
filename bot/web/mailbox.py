"""The console's safe mailbox pages, for the counsellors a school admin named: the school's letters, one letter's
thread (a named writer's name and class; nothing of an anonymous one), a reply and the letter's state. Every
page that shows a letter writes an audit row; the rules are the mailbox service's, as in the chat."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp import web

from bot.core.activity import WORRY_KINDS
from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.mailbox import service as mailbox
from bot.web.render import DEPS, USER, page, refusal

FOR_COUNSELLORS = N_("Trang hộp thư an toàn chỉ dành cho thầy/cô tư vấn được nhà trường chọn.")
NOT_FOUND = N_("Không tìm thấy thư này trong hộp thư của trường thầy/cô.")
SENT = N_("Đã gửi trả lời cho học sinh.")
MARKED = N_("Đã đổi trạng thái của thư.")


def _gettext(request: web.Request) -> Any:
    return partial(request.app[DEPS].i18n.gettext, request[USER].locale)


def _case_id(request: web.Request) -> int:
    raw = request.match_info["case"]
    return int(raw) if raw.isdigit() else -1


async def case_list(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        try:
            cases = await mailbox.cases_for_counsellor(uow, request[USER], deps.clock(), where="web")
        except Refusal:
            return refusal(request, 403, FOR_COUNSELLORS)
        await uow.commit()
    return page(request, "mailbox.html", cases=cases, kinds=WORRY_KINDS, states=mailbox.STATUS_NAMES)


async def case_view(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        if not await mailbox.is_counsellor(uow, request[USER]):
            return refusal(request, 403, FOR_COUNSELLORS)
        try:
            thread = await mailbox.read_for_counsellor(uow, request[USER], _case_id(request), deps.clock(), where="web")
        except Refusal:
            return refusal(request, 404, NOT_FOUND)
        await uow.commit()
    notice = {"tra-loi": SENT, "trang-thai": MARKED}.get(request.query.get("xong", ""), "")
    return page(
        request,
        "mailbox_case.html",
        thread=thread,
        kinds=WORRY_KINDS,
        states=mailbox.STATUS_NAMES,
        notice=_gettext(request)(notice) if notice else "",
        error="",
    )


async def _act(request: web.Request, action: str) -> web.StreamResponse:
    deps = request.app[DEPS]
    user = request[USER]
    form = await request.post()
    async with deps.uow_factory() as uow:
        if not await mailbox.is_counsellor(uow, user):
            return refusal(request, 403, FOR_COUNSELLORS)
        case_id = _case_id(request)
        try:
            await mailbox.counsellor_case(uow, user, case_id)
        except Refusal:
            return refusal(request, 404, NOT_FOUND)
        try:
            if action == "tra-loi":
                text = form.get("loi")
                await mailbox.reply(
                    uow, deps.i18n, user, case_id, text if isinstance(text, str) else "", deps.clock(), "web"
                )
            else:
                status = form.get("trang_thai")
                await mailbox.set_status(
                    uow, user, case_id, status if isinstance(status, str) else "", deps.clock(), "web"
                )
        except Refusal as exc:
            await uow.rollback()
            thread = await mailbox.read_for_counsellor(uow, user, case_id, deps.clock(), where="web")
            await uow.commit()
            return page(
                request,
                "mailbox_case.html",
                status=422,
                thread=thread,
                kinds=WORRY_KINDS,
                states=mailbox.STATUS_NAMES,
                notice="",
                error=exc.translated(_gettext(request)),
            )
        await uow.commit()
    return web.Response(status=303, headers={"Location": f"/hop-thu/{case_id}?xong={action}"})


async def reply(request: web.Request) -> web.StreamResponse:
    return await _act(request, "tra-loi")


async def mark(request: web.Request) -> web.StreamResponse:
    return await _act(request, "trang-thai")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/hop-thu", case_list)
    app.router.add_get("/hop-thu/{case}", case_view)
    app.router.add_post("/hop-thu/{case}/tra-loi", reply)
    app.router.add_post("/hop-thu/{case}/trang-thai", mark)
