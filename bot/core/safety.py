"""What the bot says when someone may be hurt or in danger, and the hotlines as every screen lists them. The
numbers and their labels are data (`content/hotlines.yaml`); the sentences around them are translated here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core import activity
from bot.core.context import Context
from bot.core.i18n import N_
from bot.core.roles import Role
from bot.core.understanding import Understanding

# Distress replies are counted as help shown, with this reference: how many, never who nor what was typed.
DISTRESS_REF = "distress"

# A child's reply, paragraph by paragraph; a staff member's, line by line.
_STUDENT = (
    N_(
        "💛 Cảm ơn em đã nói cho mình biết. Em không phải chịu đựng chuyện này một mình. Nếu có ai làm em đau "
        "hay làm em sợ, đó không phải lỗi của em."
    ),
    N_(
        "📞 Em gọi ngay {child} – {child_name}: miễn phí, cả ngày lẫn đêm. Ở đó có người lớn lắng nghe và giúp em, "
        "em không cần nói tên nếu chưa muốn."
    ),
    N_(
        "🚨 Nếu em đang gặp nguy hiểm ngay lúc này: em chạy đến chỗ có đông người lớn và gọi {police} "
        "({police_name}) hoặc {emergency}."
    ),
    N_(
        "👩‍🏫 Em hãy kể ngay với một người lớn mà em tin: bố mẹ, thầy cô chủ nhiệm, hoặc thầy cô phụ trách tư vấn "
        "tâm lý của trường. Nếu người đó chưa giúp được, em kể với một người lớn khác nhé."
    ),
    N_("Mình là chương trình máy tính nên không gọi điện thay em được, nhưng em nhắn cho mình lúc nào cũng được."),
)
_STAFF = (
    N_("Nếu một học sinh đang gặp nguy hiểm, bị bạo lực hay bị xâm hại, thầy/cô có thể:"),
    N_("🚨 gọi {police} ({police_name}) hoặc {emergency} khi nguy hiểm đang xảy ra;"),
    N_("📞 gọi {child} – {child_name} (miễn phí, cả ngày lẫn đêm) để được tư vấn, hỗ trợ;"),
    N_("🏫 báo ngay cho nhà trường theo quy trình bảo vệ học sinh của trường."),
)
_PARENT = (
    N_("Nếu con anh/chị đang gặp nguy hiểm, bị bạo lực hay bị xâm hại, anh/chị có thể:"),
    N_("🚨 gọi {police} ({police_name}) hoặc {emergency} khi nguy hiểm đang xảy ra;"),
    N_("📞 gọi {child} – {child_name} (miễn phí, cả ngày lẫn đêm) để được tư vấn, hỗ trợ;"),
    N_("🏫 báo ngay cho giáo viên chủ nhiệm hoặc nhà trường của con."),
)
STILL_PENDING = N_("Khi em sẵn sàng, mình làm tiếp việc đang dở nhé:")
STILL_PENDING_STAFF = N_("Khi thầy/cô sẵn sàng, mình làm tiếp việc đang dở:")
STILL_PENDING_TEXT = N_("Khi em sẵn sàng, em trả lời tiếp câu mình hỏi lúc nãy nhé.")
STILL_PENDING_TEXT_STAFF = N_("Khi thầy/cô sẵn sàng, thầy/cô trả lời tiếp câu mình hỏi lúc nãy nhé.")
ALL_HOTLINES = N_("📞 Xem tất cả số điện thoại khẩn cấp")
WRITE_TO_COUNSELLOR = N_("📮 Viết thư cho thầy cô tư vấn")
# The safe mailbox's action (bot.mailbox); offered to a child beside the hotlines when the product has it.
MAILBOX_ACTION = "mailbox.write"


def hotline_lines(understanding: Understanding, locale: str) -> list[str]:
    """ "• 111 – Tổng đài quốc gia bảo vệ trẻ em: khi ..." for every hotline, in the file's order."""
    return [f"• {h.number} – {h.name_in(locale)}: {h.when_in(locale)}." for h in understanding.hotlines]


def _fields(understanding: Understanding, locale: str) -> dict[str, str]:
    return {
        "child": understanding.hotline("child").number,
        "child_name": understanding.hotline("child").name_in(locale),
        "police": understanding.hotline("police").number,
        "police_name": understanding.hotline("police").name_in(locale),
        "emergency": understanding.hotline("emergency").number,
    }


def hotline_paragraphs(gettext: Callable[[str], str], locale: str, understanding: Understanding) -> list[str]:
    """The two paragraphs of the child's distress answer that give the numbers (111; 113 or 112 when in danger
    now), for other screens a child reads about being hurt (the safe mailbox's confirmation)."""
    fields = _fields(understanding, locale)
    return [gettext(m).format(**fields) for m in _STUDENT[1:3]]


def distress_text(ctx: Context[Any, Any], understanding: Understanding) -> str:
    reader = "staff" if ctx.is_staff else "parent" if ctx.user.role == Role.PARENT else "child"
    return distress_message(ctx._, ctx.user.locale, reader, understanding)


def distress_message(gettext: Callable[[str], str], locale: str, reader: str, understanding: Understanding) -> str:
    """The answer to distress in `locale`, for a child ("em"), a parent ("anh/chị") or staff ("thầy/cô")."""
    fields = _fields(understanding, locale)
    if reader == "child":
        return "\n\n".join(gettext(m).format(**fields) for m in _STUDENT)
    return "\n".join(gettext(m).format(**fields) for m in (_STAFF if reader == "staff" else _PARENT))


async def answer_distress(ctx: Context[Any, Any], understanding: Understanding, text_step: bool) -> None:
    """Answer at once, warmly, with the hotlines. What was pending in a flow (its choices, with the same buttons)
    is shown again, untouched; outside a flow (the menu), the way to all hotlines and back to the menu. Only an
    anonymous count is recorded: never who, never the text."""
    await activity.record(ctx, activity.HELP_VIEWED, ref=DISTRESS_REF, anonymous=True)
    ctx.forget_text = True
    text = distress_text(ctx, understanding)
    if ctx.conv.prompt.get("options") and (ctx.conv.flow or text_step):
        ctx.say(text)
        ctx.repeat_prompt(ctx.by_register(STILL_PENDING, STILL_PENDING_STAFF))
    elif text_step:
        ctx.say(text)
        ctx.say(ctx.by_register(STILL_PENDING_TEXT, STILL_PENDING_TEXT_STAFF))
    elif "help.show" in ctx.router.actions:
        options = [(ctx._(ALL_HOTLINES), "help.show")]
        if not ctx.is_staff and ctx.user.role != Role.PARENT and MAILBOX_ACTION in ctx.router.actions:
            options.append((ctx._(WRITE_TO_COUNSELLOR), MAILBOX_ACTION))
        ctx.ask(text, [*options, ctx.back_to_menu()])
    else:
        ctx.say(text)
