"""The console's Gửi bài pages: compose a broadcast (a lesson or a practice round, classes, when, a due date),
preview who it reaches, send or schedule it; its status per class and per student; remind those not done. The
rules are the broadcasts service's, as in the chat."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from aiohttp import web

from bot.broadcasts import roster
from bot.broadcasts import service as broadcasts
from bot.broadcasts.ports import BroadcastRec
from bot.core.clock import vn_date, vn_datetime
from bot.core.delivery import NOT_SENT_REASONS
from bot.core.errors import Refusal
from bot.core.i18n import N_
from bot.core.roles import SCHOOL_STAFF
from bot.learning.topics import TOPIC_NAMES
from bot.web.render import DEPS, USER, page, refusal

FOR_SCHOOL_STAFF = N_("Trang gửi bài dành cho giáo viên và quản trị trường.")
NOT_FOUND = N_("Không tìm thấy bài đã gửi này.")
BAD_FORM = N_("Biểu mẫu chưa đủ: thầy/cô chọn bài, ít nhất một lớp và thời gian gửi nhé.")
STATES = {
    "delivered": N_("đã nhận"),
    "waiting": N_("đang chờ gửi"),
    "unreachable": N_("không liên lạc được"),
    "unknown": N_("chưa rõ đã nhận chưa"),
    "failed": N_("gửi không được"),
    "not_sent": N_("chưa gửi được"),
}


def _gettext(request: web.Request) -> Any:
    return partial(request.app[DEPS].i18n.gettext, request[USER].locale)


def subjects(request: web.Request, today: dt.date) -> list[tuple[str, list[tuple[str, str]]]]:
    """(topic name, [(value, title)]) for the form: each topic's lessons in force today, then its practice."""
    content, _ = request.app[DEPS].content, _gettext(request)
    out = []
    for topic, name in TOPIC_NAMES.items():
        lessons = sorted(content.lessons_on(today, topic=topic), key=lambda x: (x.band, x.id))
        options = [(f"lesson.{lesson.id}", lesson.title) for lesson in lessons]
        options.append((f"practice.{topic}", _("✍️ Bài luyện tập chủ đề này")))
        out.append((_(name), options))
    return out


async def compose(request: web.Request) -> web.StreamResponse:
    user, deps = request[USER], request.app[DEPS]
    if user.role not in SCHOOL_STAFF:
        return refusal(request, 403, FOR_SCHOOL_STAFF)
    async with deps.uow_factory() as uow:
        classes = await roster.visible_classes(uow, user)
        recent = await uow.broadcasts.for_classes([c.id for c in classes]) if classes else []
    titles = {b.id: broadcasts.title_of(deps.content, b.kind, b.ref, _gettext(request)) for b in recent}
    return page(
        request,
        "broadcasts.html",
        classes=classes,
        subjects=subjects(request, vn_date(deps.clock())),
        recent=recent,
        titles=titles,
    )


def _form(form: Any) -> tuple[str, str, list[int], str, int] | None:
    kind, _sep, ref = str(form.get("bai", "")).partition(".")
    classes = [int(v) for v in form.getall("lop", []) if str(v).isdigit()]
    when = str(form.get("luc", ""))
    days = str(form.get("han", "0"))
    if kind not in ("lesson", "practice") or not ref or not classes or when not in ("now", "morning"):
        return None
    return kind, ref, classes, when, int(days) if days.isdigit() and int(days) <= 60 else 0


async def _posted(request: web.Request) -> tuple[str, str, list[int], str, int] | web.Response:
    """The compose form of a member of staff, or the page that says what is missing."""
    if request[USER].role not in SCHOOL_STAFF:
        return refusal(request, 403, FOR_SCHOOL_STAFF)
    parsed = _form(await request.post())
    return parsed if parsed is not None else refusal(request, 422, BAD_FORM)


async def preview(request: web.Request) -> web.StreamResponse:
    """Before anything is stored: what goes to how many, and a button that sends it."""
    user, deps = request[USER], request.app[DEPS]
    parsed = await _posted(request)
    if isinstance(parsed, web.Response):
        return parsed
    kind, ref, class_ids, when, days = parsed
    async with deps.uow_factory() as uow:
        try:
            plan = await broadcasts.preview(
                uow, user, kind, ref, class_ids, deps.content, vn_date(deps.clock()), _gettext(request)
            )
        except Refusal as exc:
            return page(request, "message.html", status=422, title=exc.translated(_gettext(request)), message="")
    fields = {"bai": f"{kind}.{ref}", "luc": when, "han": str(days)}
    return page(request, "broadcast_preview.html", plan=plan, fields=fields, class_ids=class_ids, when=when, days=days)


async def send(request: web.Request) -> web.StreamResponse:
    user, deps = request[USER], request.app[DEPS]
    parsed = await _posted(request)
    if isinstance(parsed, web.Response):
        return parsed
    kind, ref, class_ids, when, days = parsed
    now = deps.clock()
    today = vn_date(now)
    send_at = vn_datetime(today + dt.timedelta(days=1), dt.time(7, 0)) if when == "morning" else None
    due_on = today + dt.timedelta(days=days) if days else None
    async with deps.uow_factory() as uow:
        try:
            bc, _plan = await broadcasts.create_broadcast(
                uow, user, kind, ref, class_ids, deps.content, now, send_at=send_at, due_on=due_on, _=_gettext(request)
            )
        except Refusal as exc:
            return page(request, "message.html", status=422, title=exc.translated(_gettext(request)), message="")
        await uow.commit()
    return web.Response(status=303, headers={"Location": f"/gui-bai/{bc.id}"})


async def _visible(request: web.Request, uow: Any) -> BroadcastRec | web.Response:
    if request[USER].role not in SCHOOL_STAFF:
        return refusal(request, 403, FOR_SCHOOL_STAFF)
    raw = request.match_info["broadcast"]
    try:
        return await broadcasts.visible_broadcast(uow, request[USER], int(raw) if raw.isdigit() else -1)
    except Refusal:
        return refusal(request, 404, NOT_FOUND)


async def status(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        bc = await _visible(request, uow)
        if isinstance(bc, web.Response):
            return bc
        view = await broadcasts.progress(uow, bc)
        names = {cid: (k.name if (k := await uow.classes.get(cid)) else "?") for cid in bc.class_ids}
    title = broadcasts.title_of(deps.content, bc.kind, bc.ref, _gettext(request))
    notice = _gettext(request)(REMINDED) if request.query.get("xong") == "nhac" else ""
    return page(
        request,
        "broadcast_status.html",
        bc=bc,
        view=view,
        names=names,
        title=title,
        states=STATES,
        reasons=NOT_SENT_REASONS,
        notice=notice,
    )


REMINDED = N_("Đã xếp gửi lời nhắc tới các em chưa hoàn thành.")


async def remind(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        bc = await _visible(request, uow)
        if isinstance(bc, web.Response):
            return bc
        try:
            await broadcasts.send_reminder(uow, request[USER], bc.id, deps.clock())
        except Refusal as exc:
            return page(request, "message.html", status=409, title=exc.translated(_gettext(request)), message="")
        await uow.commit()
    return web.Response(status=303, headers={"Location": f"/gui-bai/{bc.id}?xong=nhac"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/gui-bai", compose)
    app.router.add_post("/gui-bai/xem-truoc", preview)
    app.router.add_post("/gui-bai", send)
    app.router.add_get("/gui-bai/{broadcast}", status)
    app.router.add_post("/gui-bai/{broadcast}/nhac", remind)
