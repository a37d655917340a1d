"""Lessons: topic menu, lesson cards one after another, check questions at the end."""

from __future__ import annotations

from bot.accounts.consent import require_ready
from bot.accounts.menu import show_menu
from bot.content.models import CardKind, Lesson
from bot.core import activity
from bot.core.errors import UserFacingError
from bot.core.i18n import N_
from bot.core.router import Router
from bot.learning import quiz
from bot.learning.ports import AttemptRec, Ctx
from bot.learning.topics import TOPIC_NAMES, student_band, topic_name

router = Router()

# `/start L_<lesson id>` opens a lesson (deep links in group posts); Telegram allows 64 characters after start=.
LESSON_PAYLOAD = "L_"
_MAX_PAYLOAD = 64


def lesson_link(bot_username: str | None, lesson_id: str) -> str:
    """The deep link that opens a lesson in the student's private chat, or "" when there is none."""
    payload = LESSON_PAYLOAD + lesson_id
    if not bot_username or len(payload) > _MAX_PAYLOAD:
        return ""
    return f"https://t.me/{bot_username}?start={payload}"


@router.payload(LESSON_PAYLOAD)
async def on_lesson_link(ctx: Ctx, payload: str) -> None:
    """A lesson link posted in a class group, opened by a student."""
    if ctx.user.onboarded:
        await open_lesson(ctx, payload[len(LESSON_PAYLOAD) :])
        return
    ctx.say(ctx._("Em bắt đầu với mình trước nhé. Xong rồi em bấm lại nút mở bài học trong nhóm lớp."))
    await ctx.goto("onboarding.start")


@router.command("lessons", "baihoc")
async def cmd_lessons(ctx: Ctx, _args: str) -> None:
    if await require_ready(ctx):
        await ask_topic(ctx)


@router.action("lessons.topics")
async def ask_topic(ctx: Ctx, _arg: str = "") -> None:
    _ = ctx._
    ctx.set_flow("lessons")
    ctx.ask(
        ctx.by_register(N_("📚 Em muốn học chủ đề nào?"), N_("📚 Thầy/cô muốn xem bài học chủ đề nào?")),
        [(topic_name(ctx, t), f"lessons.topic:{t}") for t in TOPIC_NAMES] + [(_("⬅️ Về menu"), "menu")],
        replace_previous=ctx.answering_prompt,
    )


@router.action("lessons.topic")
async def on_topic(ctx: Ctx, topic: str) -> None:
    if not await require_ready(ctx):
        return
    _ = ctx._
    band = await student_band(ctx)
    lessons = sorted(ctx.env.content.lessons_on(ctx.today, topic=topic, band=band), key=lambda x: (x.band, x.id))
    if not lessons:
        ctx.ask(
            _("Chủ đề này chưa có bài học cho em. Em chọn chủ đề khác nhé."),
            [(topic_name(ctx, t), f"lessons.topic:{t}") for t in TOPIC_NAMES if t != topic],
        )
        return
    done = {p.lesson_id for p in await ctx.uow.progress.for_user(ctx.user.id) if p.completed_at}
    options = [(("✅ " if lesson.id in done else "") + lesson.title, f"lessons.open:{lesson.id}") for lesson in lessons]
    ctx.ask(
        _("{topic}\nEm chọn một bài nhé:").format(topic=topic_name(ctx, topic)),
        options + [(_("⬅️ Chủ đề khác"), "lessons.topics")],
        replace_previous=ctx.answering_prompt,
    )


def _lesson(ctx: Ctx, lesson_id: str) -> Lesson:
    lesson = ctx.env.content.lessons.get(lesson_id)
    if lesson is None or not ctx.env.content.lesson_window(lesson).contains(ctx.today):
        raise UserFacingError(ctx._("Bài học này không còn nữa. Em chọn bài khác nhé (gõ /lessons)."))
    return lesson


@router.action("lessons.open")
async def open_lesson(ctx: Ctx, lesson_id: str) -> None:
    if not await require_ready(ctx):
        return
    lesson = _lesson(ctx, lesson_id)
    if await ctx.uow.progress.get(ctx.user.id, lesson.id) is None:
        await ctx.uow.progress.open(ctx.user.id, lesson.id, lesson.topic, lesson.version, ctx.now)
        await activity.record(ctx, activity.LESSON_OPENED, topic=lesson.topic, ref=lesson.id)
    show_card(ctx, lesson, 0)


def show_card(ctx: Ctx, lesson: Lesson, index: int) -> None:
    _ = ctx._
    card = lesson.cards[index]
    parts = [f"📖 {lesson.title} ({index + 1}/{len(lesson.cards)})", "", card.text]
    if card.kind is CardKind.LAW and card.citations:
        parts += ["", "⚖️ " + "; ".join(ctx.env.content.cite(c, capital=i == 0) for i, c in enumerate(card.citations))]
    if index + 1 < len(lesson.cards):
        options = [(_("Tiếp theo ▶️"), f"lessons.card:{lesson.id}.{index + 1}")]
    else:
        options = [(_("📝 Làm câu hỏi kiểm tra"), f"lessons.check:{lesson.id}")]
    ctx.set_flow("lessons", "card", lesson=lesson.id, card=index)
    ctx.ask("\n".join(parts), options + [(_("⬅️ Về menu"), "menu")], replace_previous=ctx.answering_prompt)


@router.action("lessons.card")
async def on_card(ctx: Ctx, arg: str) -> None:
    lesson_id, _sep, index = arg.rpartition(".")
    lesson = _lesson(ctx, lesson_id)
    i = int(index) if index.isdigit() else 0
    i = min(max(i, 0), len(lesson.cards) - 1)
    await ctx.uow.progress.set_card(ctx.user.id, lesson.id, i)
    show_card(ctx, lesson, i)


@router.action("lessons.check")
async def on_check(ctx: Ctx, lesson_id: str) -> None:
    lesson = _lesson(ctx, lesson_id)
    await ctx.uow.progress.set_card(ctx.user.id, lesson.id, len(lesson.cards))
    attempt = await quiz.start_attempt(ctx, "lesson_check", list(lesson.checks), topic=lesson.topic, ref=lesson.id)
    quiz.ask_question(ctx, attempt, 0, prefix=ctx._('📝 Câu hỏi kiểm tra bài "{title}"').format(title=lesson.title))


async def lesson_check_done(ctx: Ctx, attempt: AttemptRec, score: int) -> None:
    _ = ctx._
    lesson = ctx.env.content.lessons.get(attempt.ref or "")
    before = await ctx.uow.progress.get(ctx.user.id, attempt.ref or "")
    await ctx.uow.progress.complete(ctx.user.id, attempt.ref or "", score, ctx.now)
    if before is not None and before.completed_at is None:
        await activity.record(ctx, activity.LESSON_COMPLETED, topic=attempt.topic, ref=attempt.ref, value=score)
    lines = [
        _('🎉 Em đã hoàn thành bài "{title}"! Em đúng {score}/{total} câu.').format(
            title=lesson.title if lesson else "", score=score, total=attempt.total
        )
    ]
    lines += await quiz.wrong_answer_notes(ctx, attempt)
    topic = attempt.topic or ""
    ctx.ask(
        "\n\n".join(lines),
        [
            (_("📚 Bài khác cùng chủ đề"), f"lessons.topic:{topic}"),
            (_("✍️ Luyện tập chủ đề này"), f"practice.topic:{topic}"),
            (_("⬅️ Về menu"), "menu"),
        ],
    )


@router.action("lessons.back")
async def on_back(ctx: Ctx, _arg: str) -> None:
    await show_menu(ctx)
