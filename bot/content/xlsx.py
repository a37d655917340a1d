"""Excel round trip of the question bank: one sheet per topic; import validates everything before writing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.content.loader import Content, load_content
from bot.content.models import TOPICS, Question

COLUMNS = (
    "id",
    "band",
    "difficulty",
    "stem",
    "option_a",
    "option_b",
    "option_c",
    "option_d",
    "answer",
    "explanation",
    "source",
    "article",
    "valid_from",
    "valid_until",
)
LETTERS = "ABCD"


def export_bank(content: Content, path: Path | str) -> None:
    """Write every bank question to `path`, one sheet per topic, in file order."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for topic in TOPICS:
        ws = wb.create_sheet(topic)
        ws.append(list(COLUMNS))
        for qid, q in content.questions.items():
            if content.question_topic[qid] != topic:
                continue
            options = [*q.options, *([""] * (4 - len(q.options)))]
            ws.append(
                [
                    q.id,
                    q.band.value,
                    q.difficulty,
                    q.stem,
                    *options,
                    LETTERS[q.answer],
                    q.explanation,
                    q.citation.source,
                    q.citation.article,
                    q.valid_from.isoformat() if q.valid_from else "",
                    q.valid_until.isoformat() if q.valid_until else "",
                ]
            )
    wb.save(path)


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _row_to_data(row: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    errors: list[tuple[str, str]] = []
    options = [row[c] for c in ("option_a", "option_b", "option_c", "option_d")]
    while options and options[-1] is None:
        options.pop()
    if any(o is None for o in options):
        errors.append(("options", "an option is empty between filled options"))
    letter = str(row["answer"] or "").strip().upper()
    answer: Any = LETTERS.index(letter) if len(letter) == 1 and letter in LETTERS else None
    if answer is None:
        errors.append(("answer", f"must be a letter A–D, got {row['answer']!r}"))
        answer = 0
    data: dict[str, Any] = {
        "id": row["id"],
        "band": row["band"],
        "difficulty": row["difficulty"],
        "stem": row["stem"],
        "options": [str(o) for o in options if o is not None],
        "answer": answer,
        "explanation": row["explanation"],
        "citation": {"source": row["source"], "article": row["article"]},
    }
    for key in ("valid_from", "valid_until"):
        if row[key] is not None:
            data[key] = row[key]
    return data, errors


def import_bank(path: Path | str, content_root: Path | str) -> list[str]:
    """Validate every row of the workbook; if all are valid, rewrite `quizzes/<topic>.yaml` for each sheet.

    Errors read "sheet <topic>, row N: field: message". Nothing is written when there is any error.
    """
    content_root = Path(content_root)
    current = load_content(content_root)
    errors: list[str] = []
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a bad file
        return [f"{path}: (file): cannot read workbook: {exc}"]

    lesson_ids = {q.id: lid for lid, lesson in current.lessons.items() for q in lesson.checks} | {
        lid: lid for lid in current.lessons
    }
    seen: dict[str, str] = {}
    banks: dict[str, list[Question]] = {}
    for ws in wb.worksheets:
        topic = ws.title
        where0 = f"sheet {topic}"
        if topic not in TOPICS:
            errors.append(f"{where0}, row 1: sheet: unknown topic {topic!r}")
            continue
        rows = ws.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            errors.append(f"{where0}, row 1: header: missing columns {', '.join(missing)}")
            continue
        questions: list[Question] = []
        for n, values in enumerate(rows, start=2):
            row = {h: _cell(v) for h, v in zip(header, values, strict=False) if h}
            if all(v is None for v in row.values()):
                continue
            row = {c: row.get(c) for c in COLUMNS}
            where = f"{where0}, row {n}"
            data, row_errors = _row_to_data(row)
            errors += [f"{where}: {f}: {m}" for f, m in row_errors]
            try:
                q = Question.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"]) or "(row)"
                    errors.append(f"{where}: {loc}: {err['msg']}")
                continue
            if q.id in seen:
                errors.append(f"{where}: id: duplicate id {q.id!r} (also at {seen[q.id]})")
            elif q.id in lesson_ids:
                errors.append(f"{where}: id: {q.id!r} is already used in lesson {lesson_ids[q.id]}")
            seen.setdefault(q.id, where)
            src = current.sources.get(q.citation.source)
            if src is None:
                errors.append(f"{where}: source: unknown source id {q.citation.source!r}")
            else:
                if q.valid_from is not None and q.valid_from < src.effective_from:
                    errors.append(f"{where}: valid_from: {src.id} is in force only from {src.effective_from}")
                if (
                    src.effective_until is not None
                    and q.valid_until is not None
                    and (q.valid_until > src.effective_until)
                ):
                    until = src.effective_until
                    errors.append(f"{where}: valid_until: {src.id} is in force only until {until}")
                window = current.window(q, [q.citation])
                if window.empty:
                    errors.append(f"{where}: valid_from: the item is never in force")
            questions.append(q)
        banks[topic] = questions
    wb.close()
    if errors:
        return errors

    quiz_dir = content_root / "quizzes"
    quiz_dir.mkdir(parents=True, exist_ok=True)
    for topic, questions in banks.items():
        doc = {"topic": topic, "questions": [_dump(q) for q in questions]}
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)
        (quiz_dir / f"{topic}.yaml").write_text(text, encoding="utf-8")
    return []


def _dump(q: Question) -> dict[str, Any]:
    data = q.model_dump(mode="json", exclude_none=True)
    for key in ("valid_from", "valid_until"):
        if key in data:
            data[key] = dt.date.fromisoformat(data[key])
    order = (
        "id",
        "band",
        "difficulty",
        "valid_from",
        "valid_until",
        "stem",
        "options",
        "answer",
        "explanation",
        "citation",
    )
    return {k: data[k] for k in order if k in data}
