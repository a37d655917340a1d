"""Core replies → Zalo OA consultation messages: a choice prompt as a button template (opaque tokens as
payloads), numbered lines beyond the button limit, images and files to upload, long text split under 2,000."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.channels.zalo_oa.client import MAX_TEXT, text_length
from bot.channels.zalo_oa.mapping import CHOICE_PREFIX
from bot.core.i18n import N_
from bot.core.replies import Attachment, ChoicePrompt, Reply
from bot.core.text import LETTERS

Translate = Callable[[str], str]

# The reference (§2.3) gives no button count for the `button` template; 5 is the figure the OA's template
# documentation is usually quoted with. Beyond it the prompt falls back to numbered lines (as on the Zalo Bot).
MAX_BUTTONS = 5
BUTTON_TITLE = 100  # characters (reference §2.3, S20)
MAX_PAYLOAD = 1000
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
MAX_IMAGE = 1024 * 1024  # jpg/png up to 1 MB
# PDF/DOC/DOCX up to 5 MB per the reference. Workbooks are tried too (the results, the report annex): whether
# the OA takes them is on the real-OA checklist; a refused upload gets the note below instead.
FILE_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
MAX_FILE = 5 * 1024 * 1024

HINT_NUMBERS = N_("👉 Gõ số (1–{n}) để chọn.")
HINT_LETTERS = N_("👉 Gõ chữ cái (A–{last}) để chọn.")
TAP_BELOW = N_("👇 Chọn bên dưới:")
FILE_TOO_BIG = N_(
    "📎 Tệp «{name}» lớn quá nên Zalo OA không nhận (ảnh tối đa 1 MB, tệp tối đa 5 MB). Thầy/cô lấy tệp trên "
    "trang quản lý trên web hoặc mở bot trên Telegram (gõ /link để dùng chung tài khoản) nhé."
)
FILE_UNSUPPORTED = N_(
    "📎 Tệp «{name}» có định dạng Zalo OA chưa nhận. Thầy/cô lấy tệp trên trang quản lý trên web hoặc mở bot "
    "trên Telegram (gõ /link để dùng chung tài khoản) nhé."
)


@dataclass(frozen=True)
class TextPart:
    text: str
    buttons: tuple[dict[str, Any], ...] = ()

    def message(self, quote: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.buttons:
            out["attachment"] = {
                "type": "template",
                "payload": {"template_type": "button", "buttons": list(self.buttons)},
            }
        if quote:
            out["quote_message_id"] = quote
        return out


@dataclass(frozen=True)
class FilePart:
    attachment: Attachment
    kind: str  # "image" | "file"

    def message(self, attachment_id: str) -> dict[str, Any]:
        if self.kind == "image":
            payload = {"template_type": "media", "elements": [{"media_type": "image", "attachment_id": attachment_id}]}
            return {"attachment": {"type": "template", "payload": payload}}
        return {"attachment": {"type": "file", "payload": {"token": attachment_id}}}


Part = TextPart | FilePart


def file_kind(attachment: Attachment) -> str | None:
    """ "image" or "file" when the OA can take it, else None (the caller explains why with `file_note`)."""
    size = len(attachment.content)
    if attachment.mime_type in IMAGE_TYPES and size <= MAX_IMAGE:
        return "image"
    if attachment.mime_type in FILE_TYPES | IMAGE_TYPES and size <= MAX_FILE:
        return "file"  # an image over 1 MB goes as a file
    return None


def file_note(attachment: Attachment, _: Translate, too_big: bool | None = None) -> str:
    """Why the file did not go: too big, or a type the OA does not take (`too_big` when the OA said which)."""
    if too_big is None:
        too_big = attachment.mime_type in FILE_TYPES | IMAGE_TYPES
    return _(FILE_TOO_BIG if too_big else FILE_UNSUPPORTED).format(name=attachment.filename)


def buttons(prompt: ChoicePrompt) -> tuple[dict[str, Any], ...] | None:
    """The prompt as OA buttons, or None when it does not fit (too many options, a token too long)."""
    if not prompt.options or len(prompt.options) > MAX_BUTTONS:
        return None
    out = []
    for i, choice in enumerate(prompt.options):
        label = f"{LETTERS[i]}. {choice.label}" if prompt.lettered else choice.label
        title = label if len(label) <= BUTTON_TITLE else label[: BUTTON_TITLE - 1] + "…"
        if choice.url:
            out.append({"title": title, "type": "oa.open.url", "payload": {"url": choice.url}})
            continue
        payload = CHOICE_PREFIX + choice.token
        if len(payload) > MAX_PAYLOAD:
            return None
        out.append({"title": title, "type": "oa.query.hide", "payload": payload})
    return tuple(out)


def numbered(prompt: ChoicePrompt, _: Translate) -> str:
    """Options typed back by number or letter, as on the Zalo Bot channel."""
    options = prompt.options
    lettered = prompt.lettered and len(options) <= len(LETTERS)
    lines = [f"{LETTERS[i] if lettered else i + 1}. {c.label}" for i, c in enumerate(options)]
    hint = (
        _(HINT_LETTERS).format(last=LETTERS[len(options) - 1]) if lettered else _(HINT_NUMBERS).format(n=len(options))
    )
    return "\n".join([*lines, hint])


def render(replies: list[Reply], _: Translate, limit: int = MAX_TEXT) -> list[Part]:
    """The replies of one event as few messages as possible, in order: text joined and split under the limit,
    each button prompt closing a message, each file a message of its own."""
    parts: list[Part] = []
    pending: list[str] = []

    def flush(with_buttons: tuple[dict[str, Any], ...] = ()) -> None:
        text = "\n\n".join(t for t in pending if t)
        pending.clear()
        if not text and not with_buttons:
            return
        chunks = split_text(text, limit) if text else []
        if with_buttons and not chunks:
            chunks = [_(TAP_BELOW)]
        for chunk in chunks[:-1]:
            parts.append(TextPart(chunk))
        parts.append(TextPart(chunks[-1], with_buttons))

    for reply in replies:
        pending.append(reply.text.strip())
        if reply.prompt and reply.prompt.options:
            found = buttons(reply.prompt)
            if found is not None:
                flush(found)
            else:
                pending.append(numbered(reply.prompt, _))
        for attachment in reply.attachments:
            kind = file_kind(attachment)
            if attachment.caption:
                pending.append(attachment.caption)
            if kind is None:
                pending.append(file_note(attachment, _))
                continue
            flush()
            parts.append(FilePart(attachment, kind))
    flush()
    return parts


_BREAKS = ("\n\n", "\n", ". ", "! ", "? ", "… ", "; ", ", ", " ")


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Chunks of at most `limit` (UTF-16 units, NFC), cut at a paragraph, line, sentence or word boundary."""
    text = unicodedata.normalize("NFC", text).strip()
    chunks: list[str] = []
    while text_length(text) > limit:
        end = min(len(text), limit)
        while end > 0 and text_length(text[:end]) > limit:
            end -= 1
        window = text[:end]
        cut = -1
        for sep in _BREAKS:
            pos = window.rfind(sep)
            if pos >= len(window) // 3:  # never cut absurdly early
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
