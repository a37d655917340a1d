"""Replies as Telegram sees them: text split at 4096 characters, choice prompts as inline keyboards."""

from __future__ import annotations

from typing import Any

from bot.core.replies import ChoicePrompt, Reply
from bot.core.text import LETTERS

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
LETTERS_PER_ROW = 5


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji usually counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Chunks of at most `limit` UTF-16 units, cut at a paragraph, else a line, else a space; joined back they
    give the input. Plain text only (the bot sends no markup), so there are no tags to keep whole."""
    chunks: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        # the longest prefix that fits, counted in code points (never cuts inside a surrogate pair)
        size, used = 0, 0
        for ch in rest:
            used += 2 if ord(ch) > 0xFFFF else 1
            if used > limit:
                break
            size += 1
        head = rest[:size]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            at = head.rfind(sep)
            if at > 0:
                cut = at + len(sep)
                break
        if cut <= 0:
            cut = size
        chunks.append(rest[:cut])
        rest = rest[cut:]
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def message_text(reply: Reply) -> str:
    """Lettered prompts (quiz answers) list "A. …" lines in the text and keep the buttons short."""
    prompt = reply.prompt
    if prompt is None or not prompt.lettered:
        return reply.text
    lines = [f"{LETTERS[i]}. {c.label}" for i, c in enumerate(prompt.options)]
    return f"{reply.text}\n\n" + "\n".join(lines)


def keyboard(prompt: ChoicePrompt | None, private: bool = True) -> dict[str, Any] | None:
    """The inline keyboard as the Bot API's JSON `reply_markup` (posted as is, see `calls.py`). A Mini App link
    is a `web_app` button in a private chat (Telegram allows it nowhere else), an ordinary URL button elsewhere."""
    if prompt is None or not prompt.options:
        return None
    buttons: list[dict[str, Any]] = []
    for i, choice in enumerate(prompt.options):
        label = LETTERS[i] if prompt.lettered else choice.label
        if choice.url and choice.web_app and private:
            buttons.append({"text": label, "web_app": {"url": choice.url}})
            continue
        if choice.url:
            buttons.append({"text": label, "url": choice.url})
            continue
        # The core's tokens are opaque and short; a longer one would be rejected by Telegram (BUTTON_DATA_INVALID).
        assert 0 < len(choice.token.encode()) <= CALLBACK_DATA_LIMIT, "callback data must be 1-64 bytes"
        buttons.append({"text": label, "callback_data": choice.token})
    per_row = LETTERS_PER_ROW if prompt.lettered else max(1, prompt.columns)
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    return {"inline_keyboard": rows}
