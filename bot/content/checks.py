"""Content checks beyond the schema: near-duplicate stems, cited articles, lesson shape, fine dates, pledges."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterator

from bot.content.loader import Content
from bot.content.models import CardKind, Question

# Two stems whose normalised forms have a difflib ratio at or above this are "near-duplicates".
# 0.9 catches copies that differ by a name, a number or a few words, and leaves apart stems
# that merely share a frame such as "Theo Luật ..., ... là gì?".
NEAR_DUPLICATE_RATIO = 0.9
TODO_PREFIX = "Em cần làm gì?"
# NĐ 168/2024 was amended by NĐ 238/2026 from 15/8/2026 and the changed points are not verified:
# every item citing it must stop being served by that day. Thông tư 31/2017 was replaced by Thông tư 18/2025
# from 31/10/2025: an item citing it says so with its own valid_until.
SOURCE_DEADLINES: dict[str, dt.date] = {"nd-168-2024": dt.date(2026, 8, 14), "tt-31-2017": dt.date(2025, 10, 30)}


def normalise(text: str) -> str:
    """Lowercase, strip diacritics (đ -> d) and punctuation, collapse spaces."""
    text = text.casefold().replace("đ", "d")
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def all_questions(content: Content) -> Iterator[tuple[str, Question]]:
    """Every question with where it lives: bank questions and lesson checks."""
    for qid, q in content.questions.items():
        yield content.files.get(qid, "?") + f": {qid}", q
    for lid, lesson in content.lessons.items():
        for q in lesson.checks:
            yield content.files.get(lid, "?") + f": {q.id}", q


def near_duplicates(
    items: list[tuple[str, str]], threshold: float = NEAR_DUPLICATE_RATIO
) -> list[tuple[str, str, float]]:
    """Pairs (where_a, where_b, ratio) whose normalised texts are at least `threshold` similar."""
    normed = [(where, normalise(text)) for where, text in items]
    out: list[tuple[str, str, float]] = []
    for i, (wa, a) in enumerate(normed):
        for wb, b in normed[i + 1 :]:
            if a == b:
                out.append((wa, wb, 1.0))
                continue
            matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
            if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                continue
            ratio = matcher.ratio()
            if ratio >= threshold:
                out.append((wa, wb, ratio))
    return out


def _article_head(article: str) -> str:
    return " ".join(article.split()[:2]).rstrip(",")


def extra_checks(content: Content) -> list[str]:
    """Problems the schema cannot see; an empty list means the content passes."""
    errors: list[str] = []
    questions = list(all_questions(content))

    for a, b, ratio in near_duplicates([(where, q.stem) for where, q in questions]):
        errors.append(f"{a}: stem: near-duplicate of {b} (similarity {ratio:.2f})")

    for where, q in questions:
        head = _article_head(q.citation.article)
        if head.casefold() not in q.explanation.casefold():
            errors.append(f"{where}: explanation: does not mention the cited article {head!r}")
        deadline = SOURCE_DEADLINES.get(q.citation.source)
        if deadline is not None and (q.valid_until is None or q.valid_until > deadline):
            errors.append(f"{where}: valid_until: items citing {q.citation.source} must end by {deadline}")

    for lid, lesson in content.lessons.items():
        where = content.files.get(lid, "?")
        todo = [c for c in lesson.cards if c.kind is CardKind.TODO]
        if todo and not todo[0].text.startswith(TODO_PREFIX):
            errors.append(f"{where}: cards: the todo card must start with {TODO_PREFIX!r}")
        if len(lesson.checks) < 2:
            errors.append(f"{where}: checks: a lesson needs 2 or 3 check questions")
        for i, card in enumerate(lesson.cards):
            for c in card.citations:
                deadline = SOURCE_DEADLINES.get(c.source)
                if deadline is not None and (lesson.valid_until is None or lesson.valid_until > deadline):
                    errors.append(f"{where}: cards[{i}]: lessons citing {c.source} must end by {deadline}")

    for tid, template in content.pledge_templates.items():
        where = content.files.get(tid, "?") + f": {tid}"
        for c in template.citations:
            head = _article_head(c.article)
            if head.casefold() not in template.text.casefold():
                errors.append(f"{where}: text: does not mention the cited article {head!r}")
            deadline = SOURCE_DEADLINES.get(c.source)
            if deadline is not None and (template.valid_until is None or template.valid_until > deadline):
                errors.append(f"{where}: valid_until: pledges citing {c.source} must end by {deadline}")
    return errors
