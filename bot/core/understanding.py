"""Understanding free text, Vietnamese first: normalising what a child types (case, repeated letters, teen
spellings, with or without diacritics) and finding the phrases of a school-editable word list in it: distress,
and the intents that start a flow. Pure functions over plain data; the lists come from the content files."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from bot.core.text import fold  # a word of letters and digits folds to lower case without diacritics (đ -> d)

# A phrase word that stands for up to `GAP_WORDS` other words: "bị ... đánh" finds "bị các bạn đánh".
GAP = "..."
GAP_WORDS = 3

# The intents a word list may name, each the command it runs; `join` takes the class code that follows it.
INTENTS: tuple[str, ...] = (
    "lessons",
    "practice",
    "contest",
    "help",
    "progress",
    "join",
    "menu",
    "assigned",
    "privacy",
    "language",
    "mailbox",
)
INTENTS_WITH_CODE = frozenset({"join"})

# The hotlines the kernel names by their use (their numbers and labels are data: `content/hotlines.yaml`).
HOTLINE_KEYS: tuple[str, ...] = ("child", "police", "emergency", "fire", "ambulance")

_WORD_RE = re.compile(r"[^\W_]+")  # letters and digits; punctuation, emoji and "_" separate words
_CODE_RE = re.compile(r"^[A-Za-z0-9]{4,12}$")


@dataclass(frozen=True)
class Word:
    """One word, lower case: `exact` keeps its diacritics, `plain` has none; `origin` is the index of the word of
    the typed text it comes from (a spelling such as "ntn" becomes several words)."""

    exact: str
    plain: str
    origin: int
    key: str = ""  # `plain` with repeated letters collapsed: two words that match always have the same key

    @property
    def typed_plain(self) -> bool:
        """Typed without any diacritic, so it may stand for any word that folds to it ("bi" for "bị")."""
        return self.exact == self.plain


@dataclass(frozen=True)
class Lexicon:
    """The word lists. `spellings`: a typed word (lower case, repeated letters collapsed) -> what it stands for;
    `not_distress`: phrases whose words never count for distress ("đánh giá", "cứu hỏa"); `intents`: intent ->
    phrases. Phrases are written with their diacritics; `...` between two words allows a few words there."""

    spellings: Mapping[str, str] = field(default_factory=dict)
    distress: tuple[str, ...] = ()
    not_distress: tuple[str, ...] = ()
    intents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Hotline:
    key: str  # one of HOTLINE_KEYS
    number: str
    name: Mapping[str, str]  # locale -> "Tổng đài quốc gia bảo vệ trẻ em"
    when: Mapping[str, str]  # locale -> "khi em hoặc bạn bị bạo lực, xâm hại, bắt nạt, bỏ rơi"

    def name_in(self, locale: str) -> str:
        return self.name.get(locale) or self.name["vi"]

    def when_in(self, locale: str) -> str:
        return self.when.get(locale) or self.when["vi"]


@dataclass(frozen=True)
class Understanding:
    """What the dispatcher needs to understand free text: the word lists and the hotlines, in their shown order."""

    lexicon: Lexicon
    hotlines: tuple[Hotline, ...]

    def hotline(self, key: str) -> Hotline:
        return next(h for h in self.hotlines if h.key == key)


@dataclass(frozen=True)
class Intent:
    command: str
    argument: str = ""


def collapse(word: str) -> str:
    """Repeated letters as one ("kooo" -> "ko"): how a spelling is looked up."""
    return re.sub(r"(.)\1+", r"\1", word)


@functools.lru_cache(maxsize=16384)
def spelling_key(word: str) -> str:
    """How a spelling's typed form is looked up: lower case, NFC, repeated letters collapsed."""
    return collapse(unicodedata.normalize("NFC", word.strip().lower()))


@functools.lru_cache(maxsize=4096)
def _stretched(written: str) -> re.Pattern[str]:
    """A written word with each letter typed once or more ("cứu" finds "cứuuu", "quá" finds "quáaaa"), but never
    fewer times: "cũ" is not "cứu" typed without diacritics ("cuu")."""
    return re.compile("".join(f"{re.escape(ch)}[{re.escape(ch + fold(ch))}]*" for ch in written))


@functools.lru_cache(maxsize=16384)
def _forms(token: str) -> tuple[str, str]:
    plain = fold(token)
    return plain, collapse(plain)


def _word(token: str, origin: int) -> Word:
    plain, key = _forms(token)
    return Word(exact=token, plain=plain, origin=origin, key=key)


def words(text: str, spellings: Mapping[str, str] | None = None) -> list[Word]:
    """The normalised words of `text`, teen spellings replaced ("ko" -> "không", "e" -> "em")."""
    out: list[Word] = []
    for origin, token in enumerate(_WORD_RE.findall(unicodedata.normalize("NFC", text).lower())):
        replacement = (spellings or {}).get(spelling_key(token))
        parts = _WORD_RE.findall(replacement.lower()) if replacement else [token]
        out += [_word(part, origin) for part in parts]
    return out


def phrase_words(phrase: str) -> list[Word | None]:
    """A phrase as words to match; None stands for the gap `...`."""
    out: list[Word | None] = []
    for i, chunk in enumerate(phrase.split(GAP)):
        if i:
            out.append(None)
        out += [_word(token, -1) for token in _WORD_RE.findall(unicodedata.normalize("NFC", chunk).lower())]
    while out and out[0] is None:
        out.pop(0)
    while out and out[-1] is None:
        out.pop()
    return out


def same_word(typed: Word, written: Word) -> bool:
    """A typed word with diacritics must match the written word exactly; one typed without any may stand for
    every word that folds to it ("thi" finds "thi", but "thì" never finds "thi")."""
    if typed.key != written.key:  # the cheap test first: most words of a message match no word of a list
        return False
    if _stretched(written.exact).fullmatch(typed.exact):
        return True
    return typed.typed_plain and _stretched(written.plain).fullmatch(typed.plain) is not None


def _matches_at(text: list[Word], pattern: list[Word | None], start: int) -> Iterator[tuple[int, ...]]:
    """Every way `pattern` matches from `start`: the indexes of the words it matched (gaps excluded)."""
    if not pattern:
        yield ()
        return
    head, rest = pattern[0], pattern[1:]
    if head is None:
        for skip in range(GAP_WORDS + 1):
            yield from _matches_at(text, rest, start + skip)
        return
    if start < len(text) and same_word(text[start], head):
        for tail in _matches_at(text, rest, start + 1):
            yield (start, *tail)


@functools.lru_cache(maxsize=4096)
def _pattern(phrase: str) -> tuple[Word | None, ...]:
    return tuple(phrase_words(phrase))


def find(text: list[Word], phrase: str) -> list[tuple[int, ...]]:
    """Every match of `phrase` in the words `text`, by whole words, as the indexes of the words it matched."""
    pattern = list(_pattern(phrase))
    if not pattern or pattern[0] is None:
        return []
    first = pattern[0].key
    return [m for start, w in enumerate(text) if w.key == first for m in _matches_at(text, pattern, start)]


def is_distress(text: str, lexicon: Lexicon) -> bool:
    """True when `text` says a child may be hurt, threatened or in danger. Negations count too ("em không bị
    đánh đâu" still gets the hotlines): erring on the side of care."""
    typed = words(text, lexicon.spellings)
    excluded = {i for phrase in lexicon.not_distress for match in find(typed, phrase) for i in match}
    return any(
        not excluded.intersection(match) for phrase in lexicon.distress for match in find(typed, phrase) if match
    )


def intent(text: str, lexicon: Lexicon) -> Intent | None:
    """The intent `text` asks for: the longest phrase found (the earliest among equals). For "vào lớp K7M2QX"
    the code typed right after the phrase is its argument."""
    typed = words(text, lexicon.spellings)
    best: tuple[int, int, str, tuple[int, ...]] | None = None
    for name, phrases in lexicon.intents.items():
        for phrase in phrases:
            for match in find(typed, phrase):
                key = (-len(match), match[0], name, match)
                if best is None or key[:2] < best[:2]:
                    best = key
    if best is None:
        return None
    name, match = best[2], best[3]
    argument = ""
    if name in INTENTS_WITH_CODE:
        tokens = _WORD_RE.findall(unicodedata.normalize("NFC", text))
        after = typed[match[-1]].origin + 1
        if after < len(tokens) and _CODE_RE.match(tokens[after]):
            argument = tokens[after]
    return Intent(name, argument)
