"""Text helpers shared by every channel: folding Vietnamese for comparison, matching a typed answer to the
choices offered, and recognising command words typed in Vietnamese."""

from __future__ import annotations

import re
import unicodedata

LETTERS = "ABCDEFGHIJ"


def fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), single spaces: "Trợ  giúp!" → "tro giup"."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def slugify(text: str, max_length: int = 80) -> str:
    """A file-name stem from a Vietnamese title: "Hội thi An toàn giao thông 2026" → "hoi-thi-an-toan-giao-thong-2026".

    Only a-z, 0-9 and single hyphens; cut at a word boundary to at most `max_length` characters."""
    words = re.sub(r"[^a-z0-9]+", " ", fold(text)).split()
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > max_length:
            break
        out = candidate
    return out or (words[0][:max_length] if words else "")


_INDEX_RE = re.compile(r"^\s*(?:(?:cau|dap an|chon|so)\s*)?([a-j]|\d{1,2})\s*[.):]?\s*$", re.IGNORECASE)


def match_choice(text: str, labels: list[str], lettered: bool) -> int | None:
    """Index of the option the user typed, or None: "A", "a", "1", "a.", "A)", "đáp án b", or the words of
    exactly one option (unambiguous)."""
    raw = unicodedata.normalize("NFC", text).strip()
    if not raw:
        return None
    folded = fold(raw)
    m = _INDEX_RE.match(folded) or _INDEX_RE.match(raw.lower())
    if m:
        token = m.group(1).lower()
        if token.isdigit():
            idx = int(token) - 1
        elif lettered or len(labels) <= len(LETTERS):
            idx = LETTERS.index(token.upper())
        else:
            return None
        return idx if 0 <= idx < len(labels) else None
    if len(folded) < 2:
        return None
    exact = [i for i, label in enumerate(labels) if fold(label) == folded]
    if len(exact) == 1:
        return exact[0]
    # Words typed from one option only ("gọi 114"): whole words, so "thi" never picks "thiếu niên".
    pattern = re.compile(rf"(?:^| ){re.escape(folded)}(?: |$)")
    partial = [i for i, label in enumerate(labels) if pattern.search(fold(label))]
    if len(partial) == 1 and len(folded) >= 3:
        return partial[0]
    return None


def looks_like_index(text: str) -> bool:
    """True when the text is only a number or a letter (so it was meant as a pick, even if out of range)."""
    return bool(_INDEX_RE.match(fold(text)))


# Command words a user may type instead of a slash command (Zalo has no command menu).
COMMAND_WORDS: dict[str, str] = {
    "tro giup": "help",
    "giup do": "help",
    "help": "help",
    "huong dan": "help",
    "bai hoc": "lessons",
    "hoc bai": "lessons",
    "lessons": "lessons",
    "luyen tap": "practice",
    "on tap": "practice",
    "practice": "practice",
    "thi": "contest",
    "hoi thi": "contest",
    "cuoc thi": "contest",
    "contest": "contest",
    "tien do": "progress",
    "ket qua": "progress",
    "progress": "progress",
    "menu": "menu",
    "bat dau": "start",
    "start": "start",
    "xin chao": "start",
    "chao": "start",
    "huy": "cancel",
    "thoat": "cancel",
    "cancel": "cancel",
    "ngon ngu": "language",
    "language": "language",
    "vao lop": "join",
    "ma lop": "join",
    "quyen rieng tu": "privacy",
    "bao mat": "privacy",
    "privacy": "privacy",
    "bai duoc giao": "assigned",
    "lien ket": "link",
    "link": "link",
    "cam ket": "pledge",
    "ky cam ket": "pledge",
}

# Command words that may be followed by an argument, e.g. "liên kết LK7H2K9Q" or "vào lớp K7M2QX".
COMMANDS_WITH_ARGS = frozenset({"link", "join"})


def command_word(text: str) -> str | None:
    return COMMAND_WORDS.get(fold(text))


def command_word_with_args(text: str) -> tuple[str, str] | None:
    """("link", "LK7H2K9Q") for "Liên kết: LK7H2K9Q"; only for the commands in COMMANDS_WITH_ARGS."""
    words = text.split()
    for n in (2, 1):
        if len(words) > n:
            command = COMMAND_WORDS.get(fold(" ".join(words[:n])))
            if command in COMMANDS_WITH_ARGS:
                return command, " ".join(words[n:])
    return None


def normalise_code(text: str) -> str:
    """Codes are typed in any case, with or without spaces and dashes."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())
