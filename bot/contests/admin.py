"""Contests for organizers in chat: list, open and close rounds, live counts, results, publish, Excel, a new contest."""

from __future__ import annotations

import datetime as dt

from bot.contests import exports
from bot.contests import service as svc
from bot.contests.models import ContestDef, RoundDef
from bot.contests.ports import ContestRec, Ctx, RoundRec
from bot.contests.ranking import PRIZE_NAMES
from bot.core import mime
from bot.core.clock import vn_time
from bot.core.codes import new_code
from bot.core.errors import UserFacingError
from bot.core.i18n import N_
from bot.core.replies import Attachment
from bot.core.roles import Role, require_role
from bot.core.router import Router

router = Router()
DAY = dt.timedelta(days=1)

SEPARATED = {
    "score": N_("nhiều câu đúng hơn"),
    "prediction": N_("dự đoán gần hơn"),
    "duration": N_("làm bài nhanh hơn"),
    "submitted_at": N_("nộp bài sớm hơn"),
    "registration": N_("đăng ký sớm hơn"),
    "participants": N_("nhiều người tham gia hơn"),
    "rate": N_("tỉ lệ tham gia cao hơn"),
    "id": N_("đơn vị đăng ký trước"),
}
FOR_ORGANIZERS = N_("Chức năng này chỉ dành cho ban tổ chức.")


def require_organizer(ctx: Ctx) -> None:
    require_role(ctx, Role.ORGANIZER, message=FOR_ORGANIZERS)


async def _round(ctx: Ctx, arg: str) -> tuple[ContestRec, RoundRec]:
    require_organizer(ctx)
    rnd = await ctx.uow.contests.round(int(arg)) if arg.isdigit() else None
    contest = await ctx.uow.contests.get(rnd.contest_id) if rnd else None
    if rnd is None or contest is None:
        raise ctx.stale()
    return contest, rnd


@router.action("contest.admin_list")
async def admin_list(ctx: Ctx, _arg: str) -> None:
    require_organizer(ctx)
    _ = ctx._
    await svc.close_overdue(ctx.uow, ctx.now)
    contests = await ctx.uow.contests.all()
    lines = [_("🏆 Các hội thi:")] if contests else [_("Chưa có hội thi nào.")]
    options = []
    for c in contests:
        lines.append(f"• {c.title} ({c.slug})")
        options.append((c.title, f"contest.admin:{c.id}"))
    options += [(_("➕ Tạo hội thi mới"), "contest.new"), (_("⬅️ Về menu"), "menu")]
    ctx.set_flow("contest")
    ctx.ask("\n".join(lines), options, replace_previous=ctx.answering_prompt)


@router.action("contest.admin")
async def on_admin_contest(ctx: Ctx, arg: str) -> None:
    require_organizer(ctx)
    _ = ctx._
    contest = await ctx.uow.contests.get(int(arg)) if arg.isdigit() else None
    if contest is None:
        raise UserFacingError(_("Không tìm thấy hội thi này."))
    lines = [f"🏆 {contest.title}"]
    options = []
    for r in await ctx.uow.contests.rounds(contest.id):
        state = svc.round_state(r, ctx.now)
        lines.append(
            _("• {name}: {opens} → {closes} ({state})").format(
                name=r.name, opens=vn_time(r.opens_at), closes=vn_time(r.closes_at), state=_(svc.STATE_NAMES[state])
            )
        )
        options.append((r.name, f"contest.admin_round:{r.id}"))
    options.append((_("⬅️ Các hội thi"), "contest.admin_list"))
    ctx.ask("\n".join(lines), options, replace_previous=ctx.answering_prompt)


@router.action("contest.admin_round")
async def on_admin_round(ctx: Ctx, arg: str) -> None:
    await _round_screen(ctx, arg)


async def _round_screen(ctx: Ctx, arg: str, prefix: str = "") -> None:
    _ = ctx._
    contest, rnd = await _round(ctx, arg)
    state = svc.round_state(rnd, ctx.now)
    lines = [prefix] if prefix else []
    lines.append(
        _("{title} – {name}: {state}").format(title=contest.title, name=rnd.name, state=_(svc.STATE_NAMES[state]))
    )
    options = []
    if state is svc.RoundState.SCHEDULED:
        options.append((_("▶️ Mở đợt thi ngay"), f"contest.open:{rnd.id}"))
    if state is svc.RoundState.OPEN:
        options.append((_("⏹ Đóng đợt thi"), f"contest.close:{rnd.id}"))
    options.append((_("📊 Số người tham gia"), f"contest.live:{rnd.id}"))
    if state in (svc.RoundState.CLOSED, svc.RoundState.PUBLISHED):
        options.append((_("🏅 Xem kết quả"), f"contest.results:{rnd.id}"))
        options.append((_("📥 Tải kết quả (Excel)"), f"contest.export:{rnd.id}"))
    if state is svc.RoundState.CLOSED:
        options.append((_("📣 Công bố kết quả"), f"contest.publish:{rnd.id}"))
    options.append((_("⬅️ Quay lại"), f"contest.admin:{contest.id}"))
    ctx.ask("\n".join(lines), options, replace_previous=ctx.answering_prompt)


@router.action("contest.open")
async def on_open(ctx: Ctx, arg: str) -> None:
    _contest, rnd = await _round(ctx, arg)
    await svc.open_round(ctx.uow, rnd, ctx.user.id, ctx.now)
    await _round_screen(ctx, arg, ctx._("✅ Đã mở đợt thi."))


@router.action("contest.close")
async def on_close(ctx: Ctx, arg: str) -> None:
    """Closing cannot be undone, so it asks first."""
    _ = ctx._
    contest, rnd = await _round(ctx, arg)
    if svc.round_state(rnd, ctx.now) is not svc.RoundState.OPEN:
        await _round_screen(ctx, arg, _("Đợt này không còn mở nữa."))
        return
    ctx.ask(
        _(
            "⏹ Thầy/cô muốn đóng {name} của {title} ngay bây giờ? Sau khi đóng, học sinh không bắt đầu bài thi mới "
            "được nữa (các bài đang làm vẫn được làm nốt đến hết giờ), và đợt thi không mở lại được."
        ).format(name=rnd.name, title=contest.title),
        [(_("✅ Đóng đợt thi"), f"contest.close_yes:{rnd.id}"), (_("Hủy"), f"contest.admin_round:{rnd.id}")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("contest.close_yes")
async def on_close_yes(ctx: Ctx, arg: str) -> None:
    _contest, rnd = await _round(ctx, arg)
    await svc.close_round(ctx.uow, rnd, ctx.user.id, ctx.now)
    await _round_screen(ctx, arg, ctx._("✅ Đã đóng đợt thi. Các bài đang làm vẫn được làm nốt đến hết giờ."))


@router.action("contest.live")
async def on_live(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    _contest, rnd = await _round(ctx, arg)
    await svc.close_overdue(ctx.uow, ctx.now)
    counts = [c for c in await ctx.uow.contests.live_counts(rnd.id) if c.started]  # the chat counts attempts
    lines = [_("📊 {name}: số học sinh thi chính thức (đã nộp / đã bắt đầu)").format(name=rnd.name)]
    by_school: dict[str, list[tuple[str, int, int]]] = {}
    for c in counts:
        by_school.setdefault(c.school_name, []).append((c.class_name, c.submitted, c.started))
    for school, rows in by_school.items():
        lines.append(
            _("🏫 {school}: {done}/{started}").format(
                school=school, done=sum(r[1] for r in rows), started=sum(r[2] for r in rows)
            )
        )
        lines += [f"   • {name}: {done}/{started}" for name, done, started in rows]
    if not counts:
        lines.append(_("Chưa có ai bắt đầu thi."))
    await _round_screen(ctx, arg, "\n".join(lines))


@router.action("contest.results")
async def on_results(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    contest, rnd = await _round(ctx, arg)
    await svc.close_overdue(ctx.uow, ctx.now)
    res = await svc.results(ctx.uow, contest, rnd)
    lines = [
        _("🏅 Kết quả {name}: {n} bài chính thức; giá trị thực của câu dự đoán: {actual}.").format(
            name=rnd.name, n=len(res.ranked), actual=res.actual
        )
    ]
    guess = _("dự đoán")  # outside the f-string, where the extractor finds it
    too_fast = _("⚠️ trả lời quá nhanh, cần xem lại")
    shown = res.ranked[:15]
    for r in shown:
        e = r.entry
        why = f" ({_(SEPARATED[r.separated_by])})" if r.separated_by and r.separated_by != "score" else ""
        prize = f" – {_(PRIZE_NAMES[r.prize])}" if r.prize else ""
        flag = f" {too_fast}" if e.attempt_id in res.flagged else ""
        lines.append(
            f"{r.rank}. {e.name} ({e.class_name}, {e.school_name}): {e.score}/{e.total}, "
            f"{guess} {e.prediction if e.prediction is not None else '–'}, "
            f"{int(e.duration.total_seconds())}s{prize}{why}{flag}"
        )
    if res.flagged:
        lines.append(
            _("⚠️ {n} bài trả lời quá nhanh (thời gian trung vị mỗi câu dưới {s} giây), cần xem lại.").format(
                n=len(res.flagged), s=f"{res.definition.review_median_seconds:g}"
            )
        )
        below = [r for r in res.ranked[len(shown) :] if r.entry.attempt_id in res.flagged]
        if below:
            lines.append(
                _("Ngoài danh sách trên: {entries}.").format(
                    entries="; ".join(f"{r.rank}. {r.entry.name} ({r.entry.class_name})" for r in below)
                )
            )
    if res.units:
        lines.append(_("Giải tập thể:"))
        for u in res.units[:5]:
            mark = " 🏆" if u.prize else ""
            lines.append(
                _("{rank}. {name}: {n} người tham gia, tỉ lệ {rate:.0%}").format(
                    rank=u.rank, name=u.unit.name, n=u.participants, rate=u.rate
                )
                + mark
            )
    await _round_screen(ctx, arg, "\n".join(lines))


@router.action("contest.publish")
async def on_publish(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    contest, rnd = await _round(ctx, arg)
    await svc.close_overdue(ctx.uow, ctx.now)
    res = await svc.results(ctx.uow, contest, rnd)
    ctx.ask(
        _(
            "📣 Công bố kết quả {name}? {n} bài chính thức, {w} giải cá nhân. "
            "Mỗi học sinh đạt giải sẽ nhận được tin nhắn chúc mừng. Sau khi công bố không sửa được nữa."
        ).format(name=rnd.name, n=len(res.ranked), w=len(res.winners)),
        [(_("✅ Xác nhận công bố"), f"contest.publish_yes:{rnd.id}"), (_("Hủy"), f"contest.admin_round:{rnd.id}")],
    )


@router.action("contest.publish_yes")
async def on_publish_yes(ctx: Ctx, arg: str) -> None:
    contest, rnd = await _round(ctx, arg)
    res = await svc.publish(ctx.uow, contest, rnd, ctx.user.id, ctx.now, ctx.i18n.gettext)
    await _round_screen(
        ctx,
        arg,
        ctx._("✅ Đã công bố kết quả. {w} học sinh đạt giải sẽ nhận được tin nhắn chúc mừng.").format(
            w=len(res.winners)
        ),
    )


@router.action("contest.export")
async def on_export(ctx: Ctx, arg: str) -> None:
    contest, rnd = await _round(ctx, arg)
    await svc.close_overdue(ctx.uow, ctx.now)
    res = await svc.results(ctx.uow, contest, rnd)
    data = exports.results_xlsx(res)
    await ctx.uow.audit.add(
        ctx.user.id, "contest.export", f"round:{rnd.id}", {"format": "xlsx", "rows": len(res.ranked)}, ctx.now
    )
    name = f"{exports.file_stem(res)}.xlsx"
    ctx.say(ctx._("📥 Kết quả {name} (Excel).").format(name=rnd.name), attachments=(Attachment(name, data, mime.XLSX),))
    await on_admin_round(ctx, arg)


# --- a minimal contest made in chat: a title and a length; everything else takes the defaults --------------


@router.action("contest.new")
async def on_new(ctx: Ctx, _arg: str) -> None:
    require_organizer(ctx)
    _ = ctx._
    ctx.set_flow("contest", "contest.new_title")
    defaults = ContestDef(
        id="mac-dinh", title="mặc định", rounds=[RoundDef(name="1", opens_at=ctx.now, closes_at=ctx.now + DAY)]
    )
    ctx.ask(
        _(
            "Gõ tên hội thi (ví dụ: Hội thi tìm hiểu pháp luật Ngày hội 19/8). Hội thi tạo trong chat dùng các mặc "
            "định: 1 đợt, 20 câu, 15 phút, 1 lượt chính thức; muốn tùy chỉnh, dùng tệp YAML."
        )
        + "\n"
        + svc.prize_rules(defaults, _),
        [(_("Hủy"), "contest.admin_list")],
    )


@router.text("contest.new_title")
async def on_new_title(ctx: Ctx, text: str) -> None:
    require_organizer(ctx)
    _ = ctx._
    title = " ".join(text.split())
    if not 5 <= len(title) <= 200:
        ctx.repeat_prompt(_("Tên hội thi từ 5 đến 200 ký tự. Thầy/cô gõ lại nhé."))
        return
    ctx.set_flow("contest", "new_days", title=title)
    ctx.ask(
        _("Đợt thi mở ngay bây giờ và kéo dài bao lâu?"),
        [(_("1 ngày"), "contest.new_days:1"), (_("3 ngày"), "contest.new_days:3"), (_("7 ngày"), "contest.new_days:7")]
        + [(_("Hủy"), "contest.admin_list")],
    )


@router.action("contest.new_days")
async def on_new_days(ctx: Ctx, arg: str) -> None:
    require_organizer(ctx)
    _ = ctx._
    title = str(ctx.conv.data.get("title", ""))
    if not title or arg not in ("1", "3", "7"):
        raise ctx.stale()
    d = ContestDef(
        id=f"hoi-thi-{new_code(6).lower()}",
        title=title,
        rounds=[RoundDef(name=_("Đợt 1"), opens_at=ctx.now, closes_at=ctx.now + dt.timedelta(days=int(arg)))],
    )
    contest = await svc.create_contest(ctx.uow, d, ctx.user.id, ctx.now)
    ctx.say(
        _("✅ Đã tạo hội thi “{title}” (mã {slug}). Đợt 1 đã mở.").format(title=title, slug=contest.slug)
        + "\n"
        + svc.prize_rules(d, _)
    )
    await on_admin_contest(ctx, str(contest.id))
