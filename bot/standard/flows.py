"""The standard in the chat: a school admin registers the school and assesses it criterion by criterion; an
organizer sees every school's status against the plan's target and records the evaluation made with the police."""

from __future__ import annotations

import datetime as dt

from bot.content.models import AnttStandard
from bot.core.clock import school_year_of
from bot.core.errors import UserFacingError
from bot.core.i18n import N_
from bot.core.roles import Role, require_role
from bot.core.router import Router
from bot.standard import service as standard
from bot.standard.ports import MET, NOT_MET, Answer, Ctx, StandardRec
from bot.standard.service import STATUS_NAMES, StandardRefusal

router = Router()

TITLE = N_("🛡️ Tiêu chuẩn “An toàn về an ninh, trật tự” – năm học {year}")
UNCONFIRMED = N_("⚠️ Danh sách tiêu chí đang chờ đặc khu xác nhận theo hướng dẫn của Công an tỉnh.")
TARGET = N_("🎯 Chỉ tiêu: 100% cơ sở giáo dục đăng ký và đạt tiêu chuẩn.")


def _year(ctx: Ctx) -> str:
    return school_year_of(ctx.today)


def _criteria(ctx: Ctx) -> AnttStandard:
    try:
        return standard.criteria_of(ctx.env.content.standard)
    except StandardRefusal as exc:
        raise UserFacingError(exc.translated(ctx._)) from exc


def _head(ctx: Ctx, criteria: AnttStandard) -> list[str]:
    lines = [ctx._(TITLE).format(year=_year(ctx))]
    if not criteria.confirmed:
        lines.append(ctx._(UNCONFIRMED))
    return lines


@router.command("standard", "tieuchuan")
async def cmd_standard(ctx: Ctx, _args: str) -> None:
    require_role(ctx, Role.SCHOOL_ADMIN, Role.ORGANIZER, message=standard.FOR_ADMINS_AND_ORGANIZERS)
    ctx.set_flow("standard")
    if ctx.user.role == Role.ORGANIZER:
        await _district(ctx)
    else:
        await _school_home(ctx)


@router.action("standard.home")
async def on_home(ctx: Ctx, _arg: str) -> None:
    await cmd_standard(ctx, "")


# --- the school admin ------------------------------------------------------------------------------------


async def _school_home(ctx: Ctx, prefix: str = "") -> None:
    _ = ctx._
    criteria = _criteria(ctx)
    found = await standard.school_status(ctx.uow, ctx.user, _year(ctx))
    rec = found.rec
    lines = [prefix, ""] if prefix else []
    lines += _head(ctx, criteria)
    lines.append(_("Trường: {school}").format(school=found.school.name))
    lines.append(_("Trạng thái: {status}").format(status=_(STATUS_NAMES[found.status])))
    options: list[tuple[str, str]] = []
    if rec is None:
        lines.append(
            _("Trường đăng ký để thực hiện tiêu chuẩn năm học này, rồi tự đánh giá theo {n} tiêu chí.").format(
                n=len(criteria.criteria)
            )
        )
        options.append((_("📝 Đăng ký tiêu chuẩn"), "standard.register"))
    elif rec.result is None:
        answered = len(criteria.criteria) - len(standard.missing(criteria, rec))
        lines.append(_("Đã trả lời {a}/{n} tiêu chí.").format(a=answered, n=len(criteria.criteria)))
        options.append((_("✍️ Tự đánh giá"), "standard.assess:0"))
        if answered:
            options.append((_("📋 Xem và nộp bản tự đánh giá"), "standard.review"))
    else:
        lines.append(_result_line(ctx, rec))
    options.append(ctx.back_to_menu())
    ctx.ask("\n".join(lines), options, replace_previous=ctx.answering_prompt)


def _result_line(ctx: Ctx, rec: StandardRec) -> str:
    _ = ctx._
    line = _("Kết quả đánh giá: {result}, ngày {on}.").format(
        result=_(standard.RESULT_NAMES[rec.result or NOT_MET]),
        on=f"{rec.evaluated_on:%d/%m/%Y}" if rec.evaluated_on else "",
    )
    return f"{line} {rec.evaluation_note}" if rec.evaluation_note else line


@router.action("standard.register")
async def on_register(ctx: Ctx, _arg: str) -> None:
    require_role(ctx, Role.SCHOOL_ADMIN, message=standard.FOR_SCHOOL_ADMINS)
    await standard.register(ctx.uow, ctx.user, _year(ctx), ctx.now)
    await _school_home(ctx, ctx._("✅ Trường đã đăng ký tiêu chuẩn năm học {year}.").format(year=_year(ctx)))


async def _show_criterion(ctx: Ctx, i: int) -> None:
    _ = ctx._
    criteria = _criteria(ctx)
    rec = await _own_rec(ctx)
    if not 0 <= i < len(criteria.criteria):
        await _review(ctx)
        return
    c = criteria.criteria[i]
    lines = [
        _("Tiêu chí {i}/{n} – {group}").format(i=i + 1, n=len(criteria.criteria), group=c.group),
        c.text,
        _("Minh chứng cần có: {evidence}").format(evidence=c.evidence),
    ]
    current = rec.answers.get(c.id)
    if current is not None:
        lines.append(_("Đã trả lời: {answer}").format(answer=_answer_text(ctx, current)))
    ctx.set_flow("standard", "assess", i=i)
    options = [(_("✅ Đạt"), "standard.met:1"), (_("❌ Chưa đạt"), "standard.met:0")]
    if current is not None:
        options.append((_("⏭ Giữ nguyên, sang tiêu chí sau"), f"standard.assess:{i + 1}"))
    options.append((_("Dừng lại (câu đã trả lời được giữ)"), "standard.home"))
    ctx.ask("\n".join(lines), options, replace_previous=ctx.answering_prompt)


def _answer_text(ctx: Ctx, answer: Answer) -> str:
    _ = ctx._
    text = _("đạt") if answer.met else _("chưa đạt")
    if answer.note:
        text += f" – {answer.note}"
    if answer.links:
        text += " – " + _("{n} minh chứng").format(n=len(answer.links))
    return text


async def _own_rec(ctx: Ctx) -> StandardRec:
    require_role(ctx, Role.SCHOOL_ADMIN, message=standard.FOR_SCHOOL_ADMINS)
    found = await standard.school_status(ctx.uow, ctx.user, _year(ctx))
    if found.rec is None:
        raise StandardRefusal(standard.NOT_REGISTERED, year=_year(ctx))
    if found.rec.result is not None:
        raise StandardRefusal(standard.ALREADY_EVALUATED, year=_year(ctx))
    return found.rec


@router.action("standard.assess")
async def on_assess(ctx: Ctx, arg: str) -> None:
    if not arg.isdigit():
        raise ctx.stale()
    await _show_criterion(ctx, int(arg))


def _pending(ctx: Ctx, step: str) -> int:
    """The criterion the question just asked is about; an old button or a forged one is stale."""
    i = ctx.conv.data.get("i")
    if ctx.conv.step != step or not isinstance(i, int):
        raise ctx.stale()
    return i


@router.action("standard.met")
async def on_met(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    i = _pending(ctx, "assess")
    if arg not in ("0", "1"):
        raise ctx.stale()
    ctx.set_flow("standard", "standard.note", i=i, met=arg == "1")
    ctx.ask(
        _(
            "Thầy/cô gõ ghi chú và đường dẫn minh chứng (nếu có; mỗi đường dẫn bắt đầu bằng http:// hoặc "
            "https://), hoặc bấm “Bỏ qua”."
        ),
        [(_("Bỏ qua"), "standard.note_skip"), (_("Dừng lại (câu đã trả lời được giữ)"), "standard.home")],
        replace_previous=ctx.answering_prompt,
    )


async def _save(ctx: Ctx, text: str) -> None:
    i = _pending(ctx, "standard.note")
    met = bool(ctx.conv.data.get("met"))
    criteria = _criteria(ctx)
    if not 0 <= i < len(criteria.criteria):
        raise ctx.stale()
    try:
        answer = standard.parse_answer(met, text)
    except StandardRefusal as exc:
        ctx.repeat_prompt(exc.translated(ctx._))
        return
    cid = criteria.criteria[i].id
    await standard.save_answer(ctx.uow, ctx.user, criteria, _year(ctx), cid, answer, ctx.now)
    await _show_criterion(ctx, i + 1)


@router.text("standard.note")
async def on_note(ctx: Ctx, text: str) -> None:
    await _save(ctx, text)


@router.action("standard.note_skip")
async def on_note_skip(ctx: Ctx, _arg: str) -> None:
    await _save(ctx, "")


async def _review(ctx: Ctx) -> None:
    _ = ctx._
    criteria = _criteria(ctx)
    rec = await _own_rec(ctx)
    left = standard.missing(criteria, rec)
    answers = [rec.answers[c.id] for c in criteria.criteria if c.id in rec.answers]
    met = sum(a.met for a in answers)
    lines = [
        _("Bản tự đánh giá năm học {year}: đã trả lời {a}/{n} tiêu chí – {m} đạt, {x} chưa đạt.").format(
            year=_year(ctx), a=len(answers), n=len(criteria.criteria), m=met, x=len(answers) - met
        )
    ]
    for number, c in enumerate(criteria.criteria, 1):
        answer = rec.answers.get(c.id)
        mark = "…" if answer is None else ("✅" if answer.met else "❌")
        lines.append(f"{number}. {mark} {c.group}: {_short(c.text)}")
    ctx.set_flow("standard", "review")
    options = []
    if left:
        lines.append(_("Còn {n} tiêu chí chưa trả lời.").format(n=len(left)))
        first = next(i for i, c in enumerate(criteria.criteria) if c.id in left)
        options.append((_("✍️ Trả lời tiếp"), f"standard.assess:{first}"))
    else:
        options.append((_("📨 Nộp bản tự đánh giá"), "standard.submit"))
    options += [(_("✍️ Sửa từ tiêu chí đầu"), "standard.assess:0"), ctx.back_to_menu()]
    ctx.ask("\n".join(lines), options, replace_previous=ctx.answering_prompt)


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


@router.action("standard.review")
async def on_review(ctx: Ctx, _arg: str) -> None:
    await _review(ctx)


@router.action("standard.submit")
async def on_submit(ctx: Ctx, _arg: str) -> None:
    require_role(ctx, Role.SCHOOL_ADMIN, message=standard.FOR_SCHOOL_ADMINS)
    if ctx.conv.step != "review":
        raise ctx.stale()
    await standard.submit(ctx.uow, ctx.user, _criteria(ctx), _year(ctx), ctx.now)
    await _school_home(
        ctx,
        ctx._("✅ Đã nộp bản tự đánh giá. Ban tổ chức sẽ phối hợp với Công an đánh giá và ghi kết quả."),
    )


# --- the organizer ---------------------------------------------------------------------------------------


def district_lines(ctx: Ctx, view: standard.DistrictView) -> list[str]:
    """The figures against the target and every school's status (the chat's and the terminal's words)."""
    _ = ctx._
    n = len(view.schools)
    lines = [
        ctx._(TARGET),
        _("Đã đăng ký: {r}/{n} trường ({p}%) · Đã tự đánh giá: {s} · Đạt: {m}/{n} trường ({q}%)").format(
            r=view.registered,
            n=n,
            p=view.percent(view.registered),
            s=view.self_assessed,
            m=view.met,
            q=view.percent(view.met),
        ),
    ]
    for s in view.schools:
        line = f"• {s.school.name}: {_(STATUS_NAMES[s.status])}"
        if s.rec is not None and s.rec.evaluated_on is not None:
            line += f" ({s.rec.evaluated_on:%d/%m/%Y})"
        lines.append(line)
    if view.unregistered:
        lines.append(_("Chưa đăng ký: {names}").format(names=", ".join(s.school.name for s in view.unregistered)))
    if view.not_met:
        lines.append(_("Đã đăng ký, chưa đạt: {names}").format(names=", ".join(s.school.name for s in view.not_met)))
    return lines


async def _district(ctx: Ctx, prefix: str = "") -> None:
    _ = ctx._
    criteria = _criteria(ctx)
    view = await standard.district_view(ctx.uow, ctx.user, _year(ctx))
    lines = [prefix, ""] if prefix else []
    lines += _head(ctx, criteria) + district_lines(ctx, view)
    if not view.schools:
        lines.append(_("Chưa có trường nào."))
    options = [(f"🏫 {s.school.name}", f"standard.school:{s.school.id}") for s in view.schools if s.rec is not None]
    options.append(ctx.back_to_menu())
    ctx.ask("\n".join(lines), options, replace_previous=ctx.answering_prompt)


@router.action("standard.school")
async def on_school(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    standard.require_organizer(ctx.user)
    if not arg.isdigit():
        raise ctx.stale()
    criteria = _criteria(ctx)
    found = await standard.school_status(ctx.uow, ctx.user, _year(ctx), int(arg))
    rec = found.rec
    lines = [f"🏫 {found.school.name}", _("Trạng thái: {status}").format(status=_(STATUS_NAMES[found.status]))]
    options: list[tuple[str, str]] = []
    if rec is not None:
        for number, c in enumerate(criteria.criteria, 1):
            answer = rec.answers.get(c.id)
            mark = "…" if answer is None else ("✅" if answer.met else "❌")
            line = f"{number}. {mark} {_short(c.text)}"
            if answer is not None and answer.note:
                line += f" – {answer.note}"
            lines.append(line)
            lines += [f"   🔗 {link}" for link in (answer.links if answer is not None else [])]
        if rec.result is not None:
            lines.append(_result_line(ctx, rec))
        if rec.self_assessed_at is not None:
            options += [
                (_("✅ Ghi kết quả: Đạt"), f"standard.eval:{found.school.id}:{MET}"),
                (_("❌ Ghi kết quả: Chưa đạt"), f"standard.eval:{found.school.id}:{NOT_MET}"),
            ]
        else:
            lines.append(_("Trường chưa nộp bản tự đánh giá."))
    ctx.set_flow("standard")
    options += [(_("⬅️ Các trường"), "standard.home"), ctx.back_to_menu()]
    ctx.ask("\n".join(lines), options, replace_previous=ctx.answering_prompt)


@router.action("standard.eval")
async def on_eval(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    standard.require_organizer(ctx.user)
    school, _sep, result = arg.partition(":")
    if not school.isdigit() or result not in standard.RESULT_NAMES:
        raise ctx.stale()
    found = await standard.school_status(ctx.uow, ctx.user, _year(ctx), int(school))
    ctx.set_flow("standard", "standard.eval_date", school=found.school.id, result=result)
    ctx.ask(
        _("{school} – {result}. Thầy/cô gõ ngày đánh giá cùng Công an (ngày/tháng/năm, ví dụ 20/5/2027):").format(
            school=found.school.name, result=_(standard.RESULT_NAMES[result])
        ),
        [(_("📅 Hôm nay"), "standard.eval_today"), (_("Hủy"), "standard.home")],
        replace_previous=ctx.answering_prompt,
    )


def _evaluation(ctx: Ctx, step: str) -> tuple[int, str]:
    school, result = ctx.conv.data.get("school"), ctx.conv.data.get("result")
    if ctx.conv.step != step or not isinstance(school, int) or result not in standard.RESULT_NAMES:
        raise ctx.stale()
    return school, str(result)


async def _ask_note(ctx: Ctx, text: str) -> None:
    _ = ctx._
    school, result = _evaluation(ctx, "standard.eval_date")
    try:
        on = ctx.today if text == "" else standard.parse_date(text)
        if on > ctx.today:
            raise StandardRefusal(standard.FUTURE_DATE)
    except StandardRefusal as exc:
        ctx.repeat_prompt(exc.translated(_))
        return
    ctx.set_flow("standard", "standard.eval_note", school=school, result=result, on=on.isoformat())
    ctx.ask(
        _("Ghi chú cho kết quả (ví dụ: số biên bản kiểm tra), hoặc bấm “Bỏ qua”."),
        [(_("Bỏ qua"), "standard.eval_skip"), (_("Hủy"), "standard.home")],
        replace_previous=ctx.answering_prompt,
    )


@router.text("standard.eval_date")
async def on_eval_date(ctx: Ctx, text: str) -> None:
    if not text.strip():
        ctx.repeat_prompt(ctx._(standard.BAD_DATE))
        return
    await _ask_note(ctx, text)


@router.action("standard.eval_today")
async def on_eval_today(ctx: Ctx, _arg: str) -> None:
    await _ask_note(ctx, "")


async def _record(ctx: Ctx, note: str) -> None:
    school, result = _evaluation(ctx, "standard.eval_note")
    on = dt.date.fromisoformat(str(ctx.conv.data.get("on")))
    try:
        standard.check_answer(Answer(True, note))  # the same length rule as a school's note
    except StandardRefusal as exc:
        ctx.repeat_prompt(exc.translated(ctx._))
        return
    await standard.evaluate(ctx.uow, ctx.user, school, _year(ctx), result, on, note, ctx.today, ctx.now)
    found = await standard.school_status(ctx.uow, ctx.user, _year(ctx), school)
    done = ctx._("✅ Đã ghi kết quả: {school} – {result} (ngày {on}).").format(
        school=found.school.name, result=ctx._(standard.RESULT_NAMES[result]), on=f"{on:%d/%m/%Y}"
    )
    ctx.set_flow("standard")
    await _district(ctx, done)


@router.text("standard.eval_note")
async def on_eval_note(ctx: Ctx, text: str) -> None:
    await _record(ctx, text)


@router.action("standard.eval_skip")
async def on_eval_skip(ctx: Ctx, _arg: str) -> None:
    await _record(ctx, "")
