"""Files for chats that cannot carry them: the Zalo Bot API sends no documents, so a file the bot would attach
is kept for a day behind a link made for its user (256 random bits, only the hash stored) and the message names
the link instead. On Telegram the file goes as it is, with the link beside it for a computer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any

from bot.core.dispatcher import FileLinks
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.core.replies import Reply
from bot.core.roles import Role
from bot.web.ports import WebUnitOfWork
from bot.web.service import digest

FILE_TTL = dt.timedelta(hours=24)
FILE_PATH = "/tep"
# Channels whose platform cannot deliver a document at all; others keep the file and get the link too.
NO_FILES = frozenset({"zalo"})
LINE = N_("📎 {name}: {url}")
FOOTER = N_("Đường dẫn tải tệp dùng được trong 24 giờ, chỉ dành cho thầy/cô; đừng chuyển cho người khác.")
FOOTER_STUDENT = N_("Đường dẫn tải tệp dùng được trong 24 giờ, chỉ dành cho em; đừng gửi cho người khác nhé.")


def file_links(base_url: str) -> FileLinks:
    """The dispatcher's hook for the web console at `base_url`."""

    async def replace(
        uow: Any,
        user: UserRec,
        channel: str,
        replies: list[Reply],
        now: dt.datetime,
        gettext: Callable[[str], str],
    ) -> list[Reply]:
        if channel not in NO_FILES and channel != "telegram":
            return replies  # the console writes files to its outbox
        web: WebUnitOfWork = uow
        await web.web_files.purge(now)
        out = []
        for reply in replies:
            if not reply.attachments or reply.to is not None:
                out.append(reply)
                continue
            lines = []
            for a in reply.attachments:
                token = secrets.token_urlsafe(32)
                await web.web_files.add(digest(token), user.id, a.filename, a.mime_type, a.content, now + FILE_TTL, now)
                lines.append(gettext(LINE).format(name=a.filename, url=f"{base_url}{FILE_PATH}/{token}"))
            lines.append(gettext(FOOTER_STUDENT if user.role == Role.STUDENT else FOOTER))
            text = "\n".join(filter(None, [reply.text, *lines]))
            keep = reply.attachments if channel not in NO_FILES else ()
            out.append(dataclasses.replace(reply, text=text, attachments=keep, link_preview=False))
        return out

    return replace
