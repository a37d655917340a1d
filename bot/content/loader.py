"""Load and validate the content folder; every problem is reported with its file and field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.content.models import (
    STANDARD_FILE,
    TOPICS,
    AnttStandard,
    Band,
    Citation,
    Dated,
    Lesson,
    PledgeTemplate,
    Question,
    QuestionBank,
    Source,
    SourceRegistry,
    legal_citation,
)
from bot.content.understanding import load_understanding
from bot.core.understanding import Understanding

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
PLEDGES_FILE = "pledges.yaml"


@dataclass(frozen=True)
class Window:
    start: dt.date | None
    end: dt.date | None

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    @property
    def empty(self) -> bool:
        return self.start is not None and self.end is not None and self.end < self.start


@dataclass
class Content:
    """All content, validated. Items are looked up by id; `*_on(day)` serve only what is right on that day."""

    root: Path
    sources: dict[str, Source] = field(default_factory=dict)
    lessons: dict[str, Lesson] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    question_topic: dict[str, str] = field(default_factory=dict)
    check_questions: dict[str, Question] = field(default_factory=dict)  # lesson checks, by id
    errors: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # item id -> file it came from
    # questions_on() by (day, topic, band, bank size): every contest attempt asks for the same day's pool.
    # The word lists for free text and the hotlines (None only for a folder read without them, or with errors).
    understanding: Understanding | None = None
    # The criteria of the "An toàn về an ninh, trật tự" standard (None only for a folder read with errors).
    standard: AnttStandard | None = None
    # The pledge templates of `pledges.yaml` (a folder without the file has none: pledges are then written by hand).
    pledge_templates: dict[str, PledgeTemplate] = field(default_factory=dict)
    _served: dict[tuple[Any, ...], list[Question]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    def question(self, question_id: str) -> Question | None:
        return self.questions.get(question_id) or self.check_questions.get(question_id)

    def window(self, item: Dated, citations: Iterable[Citation]) -> Window:
        start, end = item.valid_from, item.valid_until
        for c in citations:
            src = self.sources.get(c.source)
            if src is None:
                continue
            start = src.effective_from if start is None else max(start, src.effective_from)
            if src.effective_until is not None:
                end = src.effective_until if end is None else min(end, src.effective_until)
        return Window(start, end)

    def lesson_window(self, lesson: Lesson) -> Window:
        return self.window(lesson, lesson.citations())

    def question_window(self, question: Question) -> Window:
        return self.window(question, [question.citation])

    def pledge_window(self, template: PledgeTemplate) -> Window:
        return self.window(template, template.citations)

    def pledge_templates_on(self, day: dt.date) -> list[PledgeTemplate]:
        """The templates that may be published on `day` (their own dates and their sources in force), in file order."""
        return [t for t in self.pledge_templates.values() if self.pledge_window(t).contains(day)]

    def lessons_on(self, day: dt.date, topic: str | None = None, band: Band | None = None) -> list[Lesson]:
        return [
            lesson
            for lesson in self.lessons.values()
            if (topic is None or lesson.topic == topic)
            and (band is None or lesson.band == band)
            and self.lesson_window(lesson).contains(day)
        ]

    def questions_on(self, day: dt.date, topic: str | None = None, band: Band | None = None) -> list[Question]:
        """Bank questions served on `day`. Lower-secondary students also get primary questions."""
        key = (day, topic, band, len(self.questions), len(self.sources))
        served = self._served.get(key)
        if served is None:
            bands = None if band is None else ({Band.PRIMARY} if band is Band.PRIMARY else set(Band))
            served = self._served[key] = [
                q
                for qid, q in self.questions.items()
                if (topic is None or self.question_topic[qid] == topic)
                and (bands is None or q.band in bands)
                and self.question_window(q).contains(day)
            ]
            if len(self._served) > 256:
                self._served.clear()
        return list(served)

    def cite(self, citation: Citation, *, capital: bool = True) -> str:
        """A citation in the Vietnamese order: "Khoản 1 Điều 33 Luật Trật tự, an toàn giao thông đường bộ số
        36/2024/QH15" (`capital` False in the middle of a sentence or a list)."""
        return legal_citation(citation.article, self.sources.get(citation.source), capital=capital)

    def summary(self) -> dict[str, Any]:
        """The shape printed by `python -m bot content check --json` (other tools read it)."""
        topics: dict[str, Any] = {}
        for topic in TOPICS:
            lessons = [lesson for lesson in self.lessons.values() if lesson.topic == topic]
            topics[topic] = {
                "lessons": {
                    "primary": sum(1 for lesson in lessons if lesson.band is Band.PRIMARY),
                    "lower_secondary": sum(1 for lesson in lessons if lesson.band is Band.LOWER_SECONDARY),
                },
                "questions": sum(1 for t in self.question_topic.values() if t == topic),
            }
        return {"ok": self.ok, "errors": list(self.errors), "topics": topics, "sources": len(self.sources)}


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(item)"


def _read_yaml(path: Path, rel: str, errors: list[str]) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        errors.append(f"{rel}: (file): not valid YAML: {exc}")
    except OSError as exc:
        errors.append(f"{rel}: (file): cannot read: {exc}")
    return None


def _parse(model: type[BaseModel], data: Any, rel: str, errors: list[str]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = _loc(tuple(err["loc"]))
            # "file: questions[3]" + ".citation.source" reads as one path.
            where = f"{rel}.{loc}" if ": " in rel and loc != "(item)" else (rel if ": " in rel else f"{rel}: {loc}")
            errors.append(f"{where}: {err['msg']}")
    return None


def load_content(root: Path | str = DEFAULT_CONTENT_DIR) -> Content:
    """Read sources, lessons, question banks and pledge templates under `root`; never raises for bad content."""
    root = Path(root)
    content = Content(root=root)
    errors = content.errors
    rel = lambda p: str(p.relative_to(root.parent)) if p.is_relative_to(root.parent) else str(p)  # noqa: E731

    src_path = root / "sources.yaml"
    if not src_path.exists():
        errors.append(f"{rel(src_path)}: (file): missing")
    else:
        data = _read_yaml(src_path, rel(src_path), errors)
        registry = _parse(SourceRegistry, data, rel(src_path), errors) if data is not None else None
        for i, src in enumerate(registry.sources if registry else []):
            if src.id in content.sources:
                errors.append(f"{rel(src_path)}: sources[{i}].id: duplicate id {src.id!r}")
            content.sources[src.id] = src
        for i, src in enumerate(registry.sources if registry else []):
            if src.replaced_by and src.replaced_by not in content.sources:
                errors.append(f"{rel(src_path)}: sources[{i}].replaced_by: unknown source {src.replaced_by!r}")

    ids: dict[str, str] = {}

    def claim(item_id: str, where: str) -> None:
        if item_id in ids:
            errors.append(f"{where}: duplicate id {item_id!r} (also in {ids[item_id]})")
        else:
            ids[item_id] = where.split(":")[0]

    def check_citations(item: Dated, citations: list[tuple[str, Citation]], where: str) -> None:
        for field_path, c in citations:
            src = content.sources.get(c.source)
            if src is None:
                errors.append(f"{where}.{field_path}.source: unknown source id {c.source!r}")
                continue
            if item.valid_from is not None and item.valid_from < src.effective_from:
                errors.append(
                    f"{where}.{field_path}.source: {c.source} is in force only from "
                    f"{src.effective_from}, but the item is valid from {item.valid_from}"
                )
            if src.effective_until is not None and (item.valid_until is None or item.valid_until > src.effective_until):
                if item.valid_until is not None:
                    errors.append(
                        f"{where}.{field_path}.source: {c.source} is in force only until "
                        f"{src.effective_until}, but the item is valid until {item.valid_until}"
                    )
        if content.window(item, [c for _, c in citations]).empty:
            errors.append(f"{where}: the item is never in force (its dates and its sources' dates do not overlap)")

    lesson_dir = root / "lessons"
    for path in sorted(lesson_dir.rglob("*.yaml")) if lesson_dir.exists() else []:
        r = rel(path)
        data = _read_yaml(path, r, errors)
        if data is None:
            continue
        lesson = _parse(Lesson, data, r, errors)
        if lesson is None:
            continue
        if path.parent.name != lesson.topic:
            errors.append(f"{r}: topic: {lesson.topic!r} does not match its folder {path.parent.name!r}")
        claim(lesson.id, f"{r}: id")
        cites = [
            (f"cards[{i}].citations[{j}]", c)
            for i, card in enumerate(lesson.cards)
            for j, c in enumerate(card.citations)
        ]
        cites += [(f"checks[{i}].citation", q.citation) for i, q in enumerate(lesson.checks)]
        check_citations(lesson, cites, r)
        for i, q in enumerate(lesson.checks):
            claim(q.id, f"{r}: checks[{i}].id")
            content.check_questions[q.id] = q
        content.lessons[lesson.id] = lesson
        content.files[lesson.id] = r

    quiz_dir = root / "quizzes"
    for path in sorted(quiz_dir.glob("*.yaml")) if quiz_dir.exists() else []:
        r = rel(path)
        data = _read_yaml(path, r, errors)
        if data is None:
            continue
        # Each question is validated on its own, so one bad item does not hide the problems of the others.
        raw_questions = data.get("questions") if isinstance(data, dict) else None
        header = {k: v for k, v in data.items() if k != "questions"} if isinstance(data, dict) else data
        bank = _parse(QuestionBank, {**header, "questions": []} if isinstance(header, dict) else header, r, errors)
        if bank is None:
            continue
        if not isinstance(raw_questions, list):
            errors.append(f"{r}: questions: must be a list of questions")
            continue
        if path.stem != bank.topic:
            errors.append(f"{r}: topic: {bank.topic!r} does not match the file name {path.stem!r}")
        for i, raw in enumerate(raw_questions):
            q = _parse(Question, raw, f"{r}: questions[{i}]", errors)
            if q is None:
                continue
            claim(q.id, f"{r}: questions[{i}].id")
            check_citations(q, [("citation", q.citation)], f"{r}: questions[{i}]")
            content.questions[q.id] = q
            content.question_topic[q.id] = bank.topic
            content.files[q.id] = r
    pledge_path = root / PLEDGES_FILE
    if pledge_path.exists():
        r = rel(pledge_path)
        data = _read_yaml(pledge_path, r, errors)
        # Each template is validated on its own, so one bad template does not hide the problems of the others.
        raw_templates = data.get("templates") if isinstance(data, dict) else None
        extra = sorted(set(data) - {"templates"}, key=str) if isinstance(data, dict) else []
        for name in extra:
            errors.append(f"{r}: {name}: Extra inputs are not permitted")
        if data is not None and not isinstance(raw_templates, list):
            errors.append(f"{r}: templates: must be a list of templates")
        for i, raw in enumerate(raw_templates if isinstance(raw_templates, list) else []):
            template = _parse(PledgeTemplate, raw, f"{r}: templates[{i}]", errors)
            if template is None:
                continue
            claim(template.id, f"{r}: templates[{i}].id")
            cites = [(f"citations[{j}]", c) for j, c in enumerate(template.citations)]
            check_citations(template, cites, f"{r}: templates[{i}]")
            content.pledge_templates[template.id] = template
            content.files[template.id] = r
    content.understanding = load_understanding(root, rel(root), errors)
    std_path = root / STANDARD_FILE
    if not std_path.exists():
        errors.append(f"{rel(std_path)}: (file): missing")
    else:
        data = _read_yaml(std_path, rel(std_path), errors)
        content.standard = _parse(AnttStandard, data, rel(std_path), errors) if data is not None else None
    return content
