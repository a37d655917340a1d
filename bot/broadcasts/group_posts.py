"""Lessons posted to a class's group chats: one message with a button that opens the lesson in each student's
private chat (group limits allow about 20 messages a minute)."""

from __future__ import annotations

from bot.accounts.ports import AccountsUnitOfWork
from bot.content.models import Lesson
from bot.core.events import ChannelAddress
from bot.core.i18n import I18n
from bot.core.replies import Choice, ChoicePrompt, Reply
from bot.learning.lessons import lesson_link


def lesson_post(i18n: I18n, lesson: Lesson, bot_username: str | None, locale: str = "vi") -> Reply:
    """A lesson announced in a class group: its title, a taste of the first card, and a button that opens it in
    the private chat (group limits allow about 20 messages a minute, so a post is one message)."""

    def _(message: str) -> str:
        return i18n.gettext(locale, message)

    first = lesson.cards[0].text if lesson.cards else ""
    if len(first) > 400:
        first = first[:400].rsplit(" ", 1)[0] + " …"
    lines = [_("📚 Bài học mới: {title}").format(title=lesson.title), "", first, ""]
    link = lesson_link(bot_username, lesson.id)
    if link:
        lines.append(_("Các em bấm nút dưới đây để học bài trong tin nhắn riêng với mình nhé."))
        return Reply(text="\n".join(lines), prompt=ChoicePrompt((Choice("", _("📖 Mở bài học"), url=link),)))
    lines.append(_("Các em nhắn /lessons cho mình để học bài này nhé."))
    return Reply(text="\n".join(lines))


async def lesson_posts_for_class(
    uow: AccountsUnitOfWork, i18n: I18n, lesson: Lesson, class_id: int, bot_username: str | None
) -> list[Reply]:
    """One post per group linked to the class, addressed to that group (for the broadcast sender)."""
    post = lesson_post(i18n, lesson, bot_username)
    replies = []
    for channel, chat_id in await uow.class_groups.for_class(class_id):
        to = ChannelAddress(channel, chat_id, chat_id, "group")
        replies.append(Reply(text=post.text, prompt=post.prompt, to=to))
    return replies
