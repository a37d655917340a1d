"""Contests in chat, as students take them: register, timed attempts, the prediction, the result. The organizers'
screens are in `bot.contests.admin`."""

from __future__ import annotations

import re

from bot.accounts.consent import require_ready
from bot.accounts.ports import ClassRec, ConsentRec
from bot.content.models import Band
from bot.contests import service as svc
from bot.contests.admin import admin_list
from bot.contests.ports import ContestRec, Ctx, EntryRec, RegistrationRec, RoundRec, StudentRoundRec
from bot.contests.ranking import PRIZE_NAMES
from bot.core.clock import vn_time
from bot.core.errors import STALE, UserFacingError
from bot.core.i18n import N_
from bot.core.roles import SCHOOL_STAFF, Role
from bot.core.router import Router
from bot.learning.ports import AttemptRec

router = Router()


def _remaining(ctx: Ctx, attempt: AttemptRec) -> str:
    assert attempt.deadline_at is not None
    left = max(0, int((attempt.deadline_at - ctx.now).total_seconds()))
    return ctx._("⏳ còn {m} phút {s} giây").format(m=left // 60, s=left % 60)


def _duration(ctx: Ctx, seconds: float) -> str:
    s = int(seconds)
    return ctx._("{m} phút {s} giây").format(m=s // 60, s=s % 60)


async def _load_round(ctx: Ctx, round_id: int) -> StudentRoundRec:
    """The round with its contest and what the student has in it (registration, attempts), in one query."""
    view = await ctx.uow.contests.student_round(round_id, ctx.user.id)
    if view is None:
        raise ctx.stale()
    return view


def _int_arg(ctx: Ctx, arg: str) -> int:
    if not arg.isdigit():
        raise ctx.stale()
    return int(arg)


@router.command("contest", "thi")
async def cmd_contest(ctx: Ctx, _args: str) -> None:
    # The user's unfinished attempts, read once: the overdue ones are closed (as `svc.close_overdue` would),
    # the others are running.
    running = await ctx.uow.contests.running(ctx.user.id)
    if running:
        closed = await svc.finish_overdue(ctx.uow, [a for _e, a in running], ctx.now)
        running = [(e, a) for e, a in running if a.id not in closed]
    notices = await ctx.uow.notices.pending(ctx.user.id)
    if notices:
        for n in notices:
            ctx.say(n.text)
        await ctx.uow.notices.mark_sent([n.id for n in notices], ctx.now)
    if ctx.user.role == Role.ORGANIZER:
        await admin_list(ctx, "")
        return
    if ctx.user.role in SCHOOL_STAFF:
        ctx.ask(
            ctx._(
                "Hội thi dành cho học sinh; ban tổ chức mở đợt thi và công bố kết quả. Thầy/cô nhắc học sinh gõ "
                "“thi” để vào thi, và ghi nhận ý kiến đồng ý của phụ huynh trước đó nhé."
            ),
            [(ctx._("⬅️ Về menu"), "menu")],
        )
        return
    if running:
        resume = ctx._("Em đang làm dở bài thi, mình tiếp tục nhé.")
        if ctx.env.web_base_url:
            resume += " " + ctx._("(Muốn làm tiếp trên trang web, em gõ /web.)")
        await _continue(ctx, running[-1][1], resume)
        return
    await _student_home(ctx)


@router.action("contest.home")
async def on_home(ctx: Ctx, _arg: str) -> None:
    await cmd_contest(ctx, "")


async def _student_home(ctx: Ctx) -> None:
    _ = ctx._
    # Read once for the whole page: require_ready and the registration form need them.
    student = ctx.user.onboarded and ctx.user.role == Role.STUDENT
    consents = await ctx.uow.consents.active(ctx.user.id) if student else None
    if not await require_ready(ctx, consents):
        return
    classes = await ctx.uow.classes.of_student(ctx.user.id)
    if not classes:
        ctx.ask(
            _("Em cần vào lớp trước khi dự thi. Em gõ mã lớp thầy cô gửi nhé."),
            [(_("🏫 Vào lớp"), "onboarding.ask_code"), (_("⬅️ Về menu"), "menu")],
        )
        return
    klass = classes[-1]
    open_rounds = []
    published: list[str] = []
    for contest, rnd, registered in await ctx.uow.contests.student_rounds(ctx.user.id):
        state = svc.round_state(rnd, ctx.now)
        if state is svc.RoundState.OPEN and svc.in_scope(svc.definition(contest), klass):
            open_rounds.append((contest, rnd, registered))
        elif state is svc.RoundState.PUBLISHED and registered is not None:
            published += await _my_result(ctx, contest, rnd)
    if published:
        ctx.say("\n".join(published))
    if not open_rounds:
        ctx.ask(_("Hiện chưa có hội thi nào đang mở. Em luyện tập trước nhé! ✍️"), [(_("⬅️ Về menu"), "menu")])
        return
    if len(open_rounds) == 1:
        contest, rnd, registered = open_rounds[0]
        await _round_page(ctx, contest, rnd, registered, consents, classes)
        return
    ctx.ask(
        _("🏆 Các hội thi đang mở:"),
        [(f"{c.title} – {r.name}", f"contest.round:{r.id}") for c, r, _reg in open_rounds] + [(_("⬅️ Về menu"), "menu")],
    )


async def _my_result(ctx: Ctx, contest: ContestRec, rnd: RoundRec) -> list[str]:
    """The student's own line of a published round: rank, score and prize."""
    _ = ctx._
    res = await svc.results(ctx.uow, contest, rnd)
    mine = next((r for r in res.ranked if r.entry.user_id == ctx.user.id), None)
    if mine is None:
        return []
    line = _("📣 {title} – {round}: em xếp hạng {rank}/{n}, {score}/{total} câu đúng.").format(
        title=contest.title,
        round=rnd.name,
        rank=mine.rank,
        n=len(res.ranked),
        score=mine.entry.score,
        total=mine.entry.total,
    )
    if mine.prize:
        line += " " + _("🏆 Em đạt {prize}!").format(prize=_(PRIZE_NAMES[mine.prize]))
    return [line]


LIVE_TURN = N_(
    "🎯 Lớp em thi đợt này cùng nhau trong vòng trực tiếp, bắt đầu lúc {time} ngày {day}. Em bấm “🌐 Làm bài "
    "trên trang web” rồi bấm “🎯 Vào vòng trực tiếp” nhé."
)


@router.action("contest.round")
async def on_round(ctx: Ctx, arg: str) -> None:
    """A student's view of an open round: registration first, then the official attempt and practice."""
    view = await _load_round(ctx, _int_arg(ctx, arg))
    if _round_open(ctx, view.contest, view.round):
        await _round_page(ctx, view.contest, view.round, view.registration, official_used=view.official_used)


def _round_open(ctx: Ctx, contest: ContestRec, rnd: RoundRec) -> bool:
    """Whether the round is open; when it is not, the student is told so."""
    if svc.round_state(rnd, ctx.now) is svc.RoundState.OPEN:
        return True
    _ = ctx._
    ctx.ask(
        _("{round} của {title} không mở lúc này.").format(round=rnd.name, title=contest.title),
        [(_("⬅️ Về menu"), "menu")],
    )
    return False


async def _round_page(
    ctx: Ctx,
    contest: ContestRec,
    rnd: RoundRec,
    reg: RegistrationRec | None,
    consents: list[ConsentRec] | None = None,
    classes: list[ClassRec] | None = None,
    official_used: int | None = None,
) -> None:
    """An open round, with the student's registration read in this unit of work (and, when read already, their
    active consents and classes and the number of official attempts they took in the round)."""
    _ = ctx._
    d = svc.definition(contest)
    if reg is None:
        await _ask_registration(ctx, contest, rnd, consents, classes)
        return
    if official_used is None:
        entries = await ctx.uow.contests.entries_of(rnd.id, ctx.user.id)
        official_used = sum(1 for e in entries if e.official_no is not None)
    left = d.official_attempts - official_used
    closes = vn_time(rnd.closes_at)
    lines = [
        f"🏆 {contest.title} – {rnd.name}",
        _("Thí sinh: {name} – lớp {klass}, {school}").format(
            name=reg.display_name, klass=reg.class_name, school=reg.school_name
        ),
        _("Mỗi bài: {n} câu, làm trong {m} phút. Đợt thi đóng lúc {closes}.").format(
            n=d.questions, m=d.time_limit_minutes, closes=closes
        ),
        _("Em còn {left} lượt thi chính thức.").format(left=left),
    ]
    # A class that takes the round live keeps its official attempt for it (`svc.live_turn`): the page, not here.
    live = await svc.live_turn(ctx.uow, rnd, ctx.user.id, ctx.now) if left > 0 else None
    if live is not None:
        lines.append(_(LIVE_TURN).format(**svc.live_start(live)))
    options = []
    if left > 0 and live is None:
        options.append((_("🏁 Thi chính thức"), f"contest.go:{rnd.id}.o"))
    if d.practice:
        options.append((_("✍️ Thi thử (không tính điểm)"), f"contest.go:{rnd.id}.p"))
    if ctx.env.web_base_url:  # the same attempt on the contest page (bot.web.page_flows)
        options.insert(0 if live is not None else len(options), (_("🌐 Làm bài trên trang web"), f"page.open:{rnd.id}"))
    options.append((_("⬅️ Về menu"), "menu"))
    ctx.set_flow("contest")
    ctx.ask("\n".join(lines), options, replace_previous=ctx.answering_prompt)


async def _ask_registration(
    ctx: Ctx,
    contest: ContestRec,
    rnd: RoundRec,
    consents: list[ConsentRec] | None = None,
    classes: list[ClassRec] | None = None,
) -> None:
    _ = ctx._
    if consents is None:
        consents = await ctx.uow.consents.active(ctx.user.id)
    problem = svc.consent_problem(consents)
    if problem is not None:
        ctx.ask(_(problem), [(_("⬅️ Về menu"), "menu")])
        return
    if classes is None:
        classes = await ctx.uow.classes.of_student(ctx.user.id)
    if not ctx.user.display_name or not classes:
        ctx.ask(
            _("Em cần có họ tên và lớp trước khi đăng ký dự thi. Em nhờ thầy cô chủ nhiệm giúp nhé."),
            [(_("⬅️ Về menu"), "menu")],
        )
        return
    klass = classes[-1]
    school = await ctx.uow.schools.get(klass.school_id)
    name = await ctx.uow.contests.roster_name(klass.id, ctx.user.id) or ctx.user.display_name
    lines = [
        _("📝 Đăng ký dự thi {title}").format(title=contest.title),
        _("Họ và tên: {name}").format(name=name),
        _("Lớp: {klass}").format(klass=klass.name),
        _("Trường: {school}").format(school=school.name if school else ""),
        "",
        _("Em kiểm tra kỹ nhé: sau khi bắt đầu làm bài, thông tin này không sửa được nữa."),
    ]
    ctx.ask(
        "\n".join(lines),
        [
            (_("✅ Đúng, em đăng ký"), f"contest.register:{rnd.id}"),
            (_("✏️ Thông tin chưa đúng"), "contest.wrong_info"),
        ],
    )


@router.action("contest.wrong_info")
async def on_wrong_info(ctx: Ctx, _arg: str) -> None:
    _ = ctx._
    ctx.ask(
        _("Em báo thầy cô chủ nhiệm để sửa họ tên hoặc lớp, rồi gõ “thi” để đăng ký lại nhé."),
        [(_("⬅️ Về menu"), "menu")],
    )


@router.action("contest.register")
async def on_register(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    view = await _load_round(ctx, _int_arg(ctx, arg))
    contest, rnd = view.contest, view.round
    problem = svc.consent_problem(await ctx.uow.consents.active(ctx.user.id))
    if problem is not None:
        raise UserFacingError(_(problem))
    classes = await ctx.uow.classes.of_student(ctx.user.id)
    if not ctx.user.display_name or not classes:
        raise UserFacingError(_("Em cần có họ tên và lớp trước khi đăng ký dự thi. Em nhờ thầy cô chủ nhiệm giúp nhé."))
    klass = classes[-1]
    if not svc.in_scope(svc.definition(contest), klass):
        raise UserFacingError(_("Hội thi này không dành cho lớp của em."))
    school = await ctx.uow.schools.get(klass.school_id)
    # The roster's spelling of the name once the student is matched to it ("Trần Văn Bình", not "Tran Van Binh").
    name = await ctx.uow.contests.roster_name(klass.id, ctx.user.id) or ctx.user.display_name
    reg = await ctx.uow.contests.register(
        contest.id,
        ctx.user.id,
        name,
        klass.school_id,
        school.name if school else "",
        klass.id,
        klass.name,
        klass.grade,
        ctx.now,
    )
    if reg is None:  # registered before: the first registration stays
        reg = view.registration or await ctx.uow.contests.registration(contest.id, ctx.user.id)
    ctx.say(_("✅ Em đã đăng ký dự thi. Chúc em làm bài tốt!"))
    if _round_open(ctx, contest, rnd):
        await _round_page(ctx, contest, rnd, reg, official_used=view.official_used)


@router.action("contest.go")
async def on_go(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    round_arg, _sep, mode = arg.partition(".")
    view = await _load_round(ctx, _int_arg(ctx, round_arg))
    contest, rnd = view.contest, view.round
    d = svc.definition(contest)
    if svc.round_state(rnd, ctx.now) is not svc.RoundState.OPEN:
        raise UserFacingError(_("Đợt thi này không mở lúc này."))
    if view.running:
        await cmd_contest(ctx, "")
        return
    reg = view.registration
    problem = svc.consent_problem(await ctx.uow.consents.active(ctx.user.id))
    if reg is None or problem is not None:
        raise UserFacingError(_(problem or STALE))
    official = mode == "o"
    if not official and not d.practice:
        raise ctx.stale()
    band = Band.for_grade(reg.grade) if reg.grade else None
    try:
        attempt = await svc.start_attempt(
            ctx.uow,
            ctx.env.content,
            d,
            rnd,
            reg.id,
            ctx.user.id,
            band,
            official,
            ctx.now,
            ctx.today,
            official_used=view.official_used,
            registration_locked=reg.locked_at is not None,
        )
    except svc.LiveClassTurn as turn:  # nothing was written: the way to the live round, as for a live attempt
        options = [(_("⬅️ Về menu"), "menu")]
        if d.practice:
            options.insert(0, (_("✍️ Thi thử (không tính điểm)"), f"contest.go:{rnd.id}.p"))
        if ctx.env.web_base_url:
            options.insert(0, (_("🌐 Làm bài trên trang web"), f"page.open:{rnd.id}"))
        ctx.ask(turn.translated(_), options)
        return
    if attempt is None:
        raise UserFacingError(_("Em đã dùng hết lượt thi chính thức của đợt này. Em vẫn có thể thi thử nhé."))
    if attempt.total == 0:
        raise UserFacingError(_("Ngân hàng câu hỏi chưa sẵn sàng. Em báo thầy cô nhé."))
    head = (
        _("🏁 Bắt đầu bài thi chính thức: {n} câu, {m} phút. Đồng hồ đã chạy!")
        if official
        else _("✍️ Bắt đầu bài thi thử: {n} câu, {m} phút.")
    ).format(n=attempt.total, m=d.time_limit_minutes)
    _ask(ctx, attempt, 0, head)


def _ask(ctx: Ctx, attempt: AttemptRec, seq: int, prefix: str = "", toast: str = "") -> None:
    _ = ctx._
    qid, order = attempt.questions[seq]
    q = ctx.env.content.question(qid)
    if q is None:
        raise UserFacingError(_("Câu hỏi này không còn nữa. Em báo thầy cô nhé."))
    head = _("Câu {n}/{total} · {left}").format(n=seq + 1, total=attempt.total, left=_remaining(ctx, attempt))
    text = f"{prefix}\n\n{head}\n{q.stem}".strip() if prefix else f"{head}\n{q.stem}"
    options = [(q.options[original], f"contest.answer:{attempt.id}.{seq}.{pos}") for pos, original in enumerate(order)]
    ctx.set_flow("contest", "answer", attempt=attempt.id)
    ctx.ask(text, options, lettered=True, replace_previous=ctx.answering_prompt, toast=toast)


def _ask_prediction(ctx: Ctx, attempt: AttemptRec, d_question: str, prefix: str = "") -> None:
    _ = ctx._
    ctx.conv.prompt = {}  # typed digits must not pick an option of the last question
    ctx.set_flow("contest", "contest.prediction", attempt=attempt.id)
    question = d_question or _("Theo em, đợt thi này sẽ có bao nhiêu bạn trả lời đúng tất cả các câu hỏi?")
    lines = [prefix] if prefix else []
    lines += [
        _("🔮 Câu hỏi dự đoán: {q}").format(q=question),
        _("Em gõ một số (ví dụ: 25). {left}").format(left=_remaining(ctx, attempt)),
    ]
    ctx.say("\n".join(lines), replace_previous=ctx.answering_prompt)


async def _prediction_question(ctx: Ctx, attempt: AttemptRec) -> str:
    found = await ctx.uow.contests.attempt_context(attempt.id)
    if found is None:
        return ""
    p = svc.definition(found[2]).prediction
    if p.question:
        return p.question
    if p.target.value == "participant_count":
        return ctx._("Theo em, đợt thi này sẽ có bao nhiêu bạn tham gia thi chính thức?")
    return ""


LIVE_ON_PAGE = N_(
    "Em đang thi vòng trực tiếp: cả lớp cùng trả lời từng câu trên trang thi. Em bấm “🌐 Làm bài trên trang web” "
    "để mở trang nhé."
)


async def _continue(ctx: Ctx, attempt: AttemptRec, prefix: str = "") -> None:
    if (attempt.ref or "").endswith(svc.LIVE):  # answered on the live round's schedule, on the page only
        round_ref = (attempt.ref or "").removeprefix("round:").removesuffix(svc.LIVE)
        options = [(ctx._("⬅️ Về menu"), "menu")]
        if ctx.env.web_base_url:
            options.insert(0, (ctx._("🌐 Làm bài trên trang web"), f"page.open:{round_ref}"))
        ctx.ask(prefix + ctx._(LIVE_ON_PAGE), options)
        return
    # The first question with no answer: the contest page may have answered later ones already.
    done = {a.seq for a in await ctx.uow.attempts.answers(attempt.id)}
    answered = next((seq for seq in range(attempt.total) if seq not in done), attempt.total)
    if answered < attempt.total:
        _ask(ctx, attempt, answered, prefix)
    else:
        _ask_prediction(ctx, attempt, await _prediction_question(ctx, attempt), prefix)


@router.action("contest.answer")
async def on_answer(ctx: Ctx, arg: str) -> None:
    _ = ctx._
    try:
        attempt_id, seq, pos = (int(x) for x in arg.split("."))
    except ValueError:
        raise ctx.stale() from None
    res = await svc.submit_answer(ctx.uow, ctx.env.content, ctx.user.id, attempt_id, seq, pos, ctx.now)
    attempt = res.attempt
    if res.outcome is svc.Outcome.RECORDED:
        assert attempt is not None
        done = _("✔️ Đã ghi nhận.")
        if res.answered < attempt.total:
            _ask(ctx, attempt, res.answered, toast=done)
        else:
            _ask_prediction(ctx, attempt, await _prediction_question(ctx, attempt), done)
        return
    if res.outcome is svc.Outcome.DUPLICATE:
        assert attempt is not None
        msg = _("Câu này em đã trả lời rồi; câu trả lời đầu tiên được giữ.")
        ctx.answering_prompt = False
        await _continue(ctx, attempt, msg)
        return
    if res.outcome is svc.Outcome.LATE:
        assert attempt is not None
        late = _("⏰ Đã hết giờ! Bài của em được nộp lúc hết giờ; câu trả lời này không được tính.")
        attempt = await ctx.uow.attempts.get(attempt.id)
        assert attempt is not None
        await _show_result(ctx, attempt, late)
        return
    if res.outcome is svc.Outcome.CLOSED:
        ctx.clear()
        ctx.say(_("Bài thi này đã kết thúc rồi."), toast=_("Bài thi này đã kết thúc rồi."))
        return
    ctx.say(_("Lựa chọn này không hợp lệ."), toast=_("Lựa chọn này không hợp lệ."))


_NUMBER_RE = re.compile(r"^\d{1,9}$")


@router.text("contest.prediction")
async def on_prediction(ctx: Ctx, text: str) -> None:
    _ = ctx._
    # The attempt with its entry, round and contest (these do not change when an attempt is closed below).
    read = await ctx.uow.contests.attempt_with_context(int(ctx.conv.data.get("attempt", 0)))
    if read is None or read[0].user_id != ctx.user.id:
        ctx.clear()
        raise ctx.stale()
    attempt, found = read
    if attempt.finished_at is not None:
        ctx.clear()
        ctx.say(_("Bài thi này đã kết thúc rồi."))
        return
    assert attempt.deadline_at is not None
    if await svc.close_overdue(ctx.uow, ctx.now, ctx.user.id):
        closed = await ctx.uow.attempts.get(attempt.id)
        assert closed is not None
        await ctx.uow.security.add(ctx.user.id, "late", closed.id, {"what": "prediction"}, ctx.now)
        await _show_result(ctx, closed, _("⏰ Đã hết giờ! Bài của em được nộp lúc hết giờ, không có câu dự đoán."))
        return
    raw = re.sub(r"[\s.,]", "", text)
    max_value = svc.definition(found[2]).prediction.max_value if found else 1_000_000
    if not _NUMBER_RE.match(raw) or int(raw) > max_value:
        ctx.say(
            _("Em gõ một số nguyên từ 0 đến {max} thôi nhé (ví dụ: 25). {left}").format(
                max=max_value, left=_remaining(ctx, attempt)
            )
        )
        return
    done = await svc.submit(ctx.uow, attempt, int(raw), ctx.now, found)
    await _show_result(ctx, done.attempt, _("📨 Em đã nộp bài."), done.entry, entry_read=True)


async def _show_result(
    ctx: Ctx, attempt: AttemptRec, prefix: str, entry: EntryRec | None = None, entry_read: bool = False
) -> None:
    """The submitted attempt's result; `entry_read`: `entry` is the attempt's entry as stored now (else it is read)."""
    _ = ctx._
    ctx.clear()
    assert attempt.finished_at is not None
    if not entry_read:
        entry = await ctx.uow.contests.entry_by_attempt(attempt.id)
    seconds = (attempt.finished_at - attempt.started_at).total_seconds()
    lines = [
        prefix,
        _("Kết quả: {score}/{total} câu đúng.").format(score=attempt.score or 0, total=attempt.total),
        _("Thời gian làm bài: {d}.").format(d=_duration(ctx, seconds)),
    ]
    if entry is not None and entry.prediction is not None:
        lines.append(_("Dự đoán của em: {p}.").format(p=entry.prediction))
    if attempt.kind == svc.CONTEST:
        lines.append(_("Xếp hạng và giải thưởng sẽ được công bố khi ban tổ chức xác nhận kết quả."))
    else:
        lines.append(_("Đây là bài thi thử, không tính vào kết quả."))
    options = [(_("⬅️ Về menu"), "menu")]
    if entry is not None:
        options.insert(0, (_("🏆 Về trang hội thi"), f"contest.round:{entry.round_id}"))
    ctx.ask("\n".join(lines), options)
