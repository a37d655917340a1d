"""Core replies → Zalo text messages: choices as numbered or lettered lines typed back, a short hint, files
explained (Zalo bots cannot send documents), and long text split under 2,000 characters at natural breaks."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from bot.channels.zalo.client import MAX_TEXT, text_length
from bot.core.i18n import N_
from bot.core.replies import Reply
from bot.core.text import LETTERS

Translate = Callable[[str], str]

HINT_NUMBERS = N_("👉 Gõ số (1–{n}) để chọn.")
HINT_LETTERS = N_("👉 Gõ chữ cái (A–{last}) để chọn.")
NO_FILES = N_(
    "📎 Tệp «{name}» không gửi được qua Zalo vì Zalo chưa cho bot gửi tệp. Thầy/cô mở bot trên Telegram "
    "(gõ /link để dùng chung tài khoản) hoặc nhờ quản trị viên lấy tệp trên máy chủ của nhà trường nhé."
)


def render_reply(reply: Reply, _: Translate) -> str:
    """One reply as plain text (Zalo has no Markdown, no buttons)."""
    parts = [reply.text.strip()] if reply.text.strip() else []
    if reply.prompt and reply.prompt.options:
        options = reply.prompt.options
        lettered = reply.prompt.lettered and len(options) <= len(LETTERS)
        lines = [f"{LETTERS[i] if lettered else i + 1}. {c.label}" for i, c in enumerate(options)]
        hint = (
            _(HINT_LETTERS).format(last=LETTERS[len(options) - 1])
            if lettered
            else _(HINT_NUMBERS).format(n=len(options))
        )
        parts.append("\n".join([*lines, hint]))
    for attachment in reply.attachments:
        note = _(NO_FILES).format(name=attachment.filename)
        parts.append(f"{attachment.caption}\n{note}".strip() if attachment.caption else note)
    return "\n\n".join(parts)


def render_messages(replies: list[Reply], _: Translate, limit: int = MAX_TEXT) -> list[str]:
    """The replies of one event as few messages as possible: joined, then split under the limit."""
    text = "\n\n".join(t for t in (render_reply(r, _) for r in replies) if t)
    return split_text(text, limit) if text else []


_BREAKS = ("\n\n", "\n", ". ", "! ", "? ", "… ", "; ", ", ", " ")


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Chunks of at most `limit` (UTF-16 units, NFC), cut at a paragraph, line, sentence or word boundary."""
    text = unicodedata.normalize("NFC", text).strip()
    chunks: list[str] = []
    while text_length(text) > limit:
        window = _prefix_within(text, limit)
        cut = -1
        for sep in _BREAKS:
            pos = window.rfind(sep)
            # Do not cut absurdly early: keep at least a third of the window.
            if pos >= len(window) // 3:
                cut = pos + (len(sep) if sep.strip() else 0)
                break
        if cut <= 0:
            cut = len(window)
        chunk, text = text[:cut].rstrip(), text[cut:].lstrip()
        if chunk:
            chunks.append(chunk)
    if text:
        chunks.append(text)
    return chunks


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of `text` whose UTF-16 length is at most `limit` (never splits a surrogate pair)."""
    end = min(len(text), limit)
    while end > 0 and text_length(text[:end]) > limit:
        end -= 1
    return text[:end]
