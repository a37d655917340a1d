"""Pydantic models of the content files; `extra="forbid"` so a misspelt field is an error, not a silence."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

TOPICS: tuple[str, ...] = (
    "ma-tuy",
    "bao-luc-hoc-duong",
    "an-toan-giao-thong",
    "phong-chay-chua-chay",
    "an-toan-mang",
)

CARD_MAX = 900
EXPLANATION_MAX = 200
# Telegram inline button text is shown on one line of a phone; keep option labels readable.
OPTION_MAX = 120
STEM_MAX = 300  # also Telegram's limit for a quiz-poll question

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Band(StrEnum):
    PRIMARY = "primary"  # lớp 1–5
    LOWER_SECONDARY = "lower_secondary"  # lớp 6–9

    @classmethod
    def for_grade(cls, grade: int) -> Band:
        return cls.PRIMARY if grade <= 5 else cls.LOWER_SECONDARY


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """A legal instrument (law, decree, circular, resolution, decision) and when it is in force."""

    id: Slug
    number: NonEmpty
    title: NonEmpty
    kind: NonEmpty
    issuer: NonEmpty
    effective_from: dt.date
    effective_until: dt.date | None = None  # last day in force
    replaced_by: Slug | None = None
    note: str | None = None

    def in_force(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_until is None or on <= self.effective_until)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Source:
        if self.effective_until is not None and self.effective_until < self.effective_from:
            raise ValueError("effective_until is before effective_from")
        return self

    @property
    def cited_name(self) -> str:
        """How a citation names the instrument: a law by its title and number ("Luật Trật tự, an toàn giao
        thông đường bộ số 36/2024/QH15"), other instruments by their kind and number ("Nghị định số
        168/2024/NĐ-CP"); a note in brackets after the title stays after the number."""
        main, paren, rest = self.title.partition(" (")
        if self.kind in ("Luật", "Bộ luật") and main.startswith(self.kind):
            return f"{main} số {self.number}" + (f" ({rest}" if paren else "")
        return f"{self.kind} số {self.number}"


# The parts of an article reference, from the smallest: "điểm a khoản 1 Điều 59" (Nghị định 30/2020/NĐ-CP).
_UNITS = ("điểm", "khoản", "điều", "mục", "chương")
_SPELLING = {"điểm": "điểm", "khoản": "khoản", "điều": "Điều", "mục": "Mục", "chương": "Chương"}
_PART_RE = re.compile(r"(?i)\b(điểm|khoản|điều|mục|chương)\s+(.+?)(?=\s+(?:điểm|khoản|điều|mục|chương)\s|$)")


def vietnamese_order(article: str) -> str:
    """ "Điều 59 khoản 1 điểm a" → "điểm a khoản 1 Điều 59"; "Điều 39 khoản 1 điểm e, g" → "điểm e và điểm g
    khoản 1 Điều 39". A reference it cannot read is returned as written."""
    text = " ".join(article.split())
    parts = _PART_RE.findall(text)
    if not parts or "".join(f"{u} {v}" for u, v in parts).replace(" ", "") != text.replace(" ", ""):
        return article
    found: dict[str, str] = {}
    for unit, value in parts:
        key = unit.lower()
        if key in found:
            return article
        found[key] = value.strip().rstrip(",")
    out = []
    for key in _UNITS:
        if key not in found:
            continue
        values = [v.strip() for v in re.split(r",|\bvà\b", found[key]) if v.strip()]
        named = [f"{_SPELLING[key]} {v}" for v in values]
        out.append(named[0] if len(named) == 1 else ", ".join(named[:-1]) + " và " + named[-1])
    return " ".join(out)


def legal_citation(article: str, source: Source | None, *, capital: bool = True) -> str:
    """A citation in the Vietnamese order: "Điểm a khoản 1 Điều 59 Luật Trật tự, an toàn giao thông đường bộ số
    36/2024/QH15" (with `capital`, for the start of a line; without, for the middle of a sentence)."""
    text = vietnamese_order(article)
    if source is not None:
        text = f"{text} {source.cited_name}"
    return text[:1].upper() + text[1:] if capital else text


class Citation(_Strict):
    source: Slug
    article: Annotated[str, StringConstraints(pattern=r"^(Điều|Điểm|Khoản|Mục|Chương)\s.+")]

    def short(self, sources: dict[str, Source]) -> str:
        return legal_citation(self.article, sources.get(self.source))


class Dated(_Strict):
    """An item that may carry its own window; it is served only inside it and while its sources are in force."""

    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


class Question(Dated):
    id: Slug
    band: Band
    difficulty: int = Field(ge=1, le=3)
    stem: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=STEM_MAX)]
    options: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=OPTION_MAX)]]
    answer: int
    explanation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=EXPLANATION_MAX)]
    citation: Citation

    @field_validator("options")
    @classmethod
    def _three_or_four(cls, options: list[str]) -> list[str]:
        if not 3 <= len(options) <= 4:
            raise ValueError("a question has 3 or 4 options")
        if len({o.casefold() for o in options}) != len(options):
            raise ValueError("two options are the same")
        for option in options:
            if re.search(r"(tất cả|cả \w+ đáp án|all of the above)", option, re.IGNORECASE):
                raise ValueError("no 'all of the above' options")
        return options

    @model_validator(mode="after")
    def _answer_in_range(self) -> Question:
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"answer {self.answer} is out of range for {len(self.options)} options")
        return self


class CardKind(StrEnum):
    STORY = "story"  # a situation, an explanation
    LAW = "law"  # what the law says; must cite
    TODO = "todo"  # "Em cần làm gì?"
    HELP = "help"  # where to get help


class Card(_Strict):
    kind: CardKind
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=CARD_MAX)]
    citations: list[Citation] = []

    @model_validator(mode="after")
    def _law_cites(self) -> Card:
        if self.kind is CardKind.LAW and not self.citations:
            raise ValueError("a 'law' card must cite at least one source and article")
        return self


def _known_topic(topic: str) -> str:
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}; expected one of {', '.join(TOPICS)}")
    return topic


# A topic id from DESIGN.md's fixed list.
TopicId = Annotated[str, AfterValidator(_known_topic)]


class Lesson(Dated):
    id: Slug
    topic: TopicId
    band: Band
    title: NonEmpty
    version: int = Field(default=1, ge=1)
    cards: list[Card]
    checks: list[Question]

    @field_validator("cards")
    @classmethod
    def _cards(cls, cards: list[Card]) -> list[Card]:
        if not 3 <= len(cards) <= 6:
            raise ValueError("a lesson has 3 to 6 cards")
        kinds = {c.kind for c in cards}
        missing = {CardKind.LAW, CardKind.TODO, CardKind.HELP} - kinds
        if missing:
            raise ValueError(
                "a lesson needs a 'law', a 'todo' and a 'help' card; missing: "
                + ", ".join(sorted(k.value for k in missing))
            )
        return cards

    @field_validator("checks")
    @classmethod
    def _checks(cls, checks: list[Question]) -> list[Question]:
        if not 1 <= len(checks) <= 3:
            raise ValueError("a lesson has 1 to 3 check questions")
        return checks

    def citations(self) -> list[Citation]:
        return [c for card in self.cards for c in card.citations] + [q.citation for q in self.checks]


class QuestionBank(_Strict):
    topic: TopicId
    questions: list[Question]


class SourceRegistry(_Strict):
    sources: list[Source]


# --- the "An toàn về an ninh, trật tự" standard (content/antt_standard.yaml) ---

STANDARD_FILE = "antt_standard.yaml"


class StandardCriterion(_Strict):
    """One criterion of the standard: what the school does, and what it shows as evidence."""

    id: Slug
    group: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=600)]
    evidence: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]


class AnttStandard(_Strict):
    """The district's list of criteria; `confirmed` stays false until the district has checked it against the
    official guidance (the chat and the web console say so while it is false)."""

    title: NonEmpty
    confirmed: bool = False
    criteria: list[StandardCriterion]

    @field_validator("criteria")
    @classmethod
    def _criteria(cls, criteria: list[StandardCriterion]) -> list[StandardCriterion]:
        if not 1 <= len(criteria) <= 60:
            raise ValueError("the standard has 1 to 60 criteria")
        ids = [c.id for c in criteria]
        duplicate = sorted({i for i in ids if ids.count(i) > 1})
        if duplicate:
            raise ValueError(f"duplicate criterion id: {', '.join(duplicate)}")
        return criteria

    def criterion(self, criterion_id: str) -> StandardCriterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)


# A pledge is read in one chat message (Zalo carries 2,000 characters, with the title and the buttons).
PLEDGE_TITLE_MAX = 120
PLEDGE_TEXT_MAX = 1500


class PledgeTemplate(Dated):
    """A pledge a school may publish as it is (`content/pledges.yaml`): the text students and parents confirm.
    Legal references in the text are listed in `citations`, so the template is offered only while they are in
    force; a text without them makes no legal claim."""

    id: Slug
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=PLEDGE_TITLE_MAX)]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20, max_length=PLEDGE_TEXT_MAX)]
    citations: list[Citation] = []
    note: str | None = None  # for the editors: where the wording comes from, what is confirmed
