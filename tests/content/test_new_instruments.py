"""Content for the instruments confirmed in December 2026: Luật An ninh mạng 116/2025 (Điều 16, Điều 35),
Thông tư 18/2025 (Điều 19) replacing Thông tư 31/2017, and the drug-crime hotline; and the criteria of the
"An toàn về ANTT" standard, checked as the rest of the content is."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from bot.content.checks import extra_checks
from bot.content.loader import DEFAULT_CONTENT_DIR, Content, load_content
from bot.content.models import STANDARD_FILE, Citation, Question

ANM_2025_IN_FORCE = dt.date(2026, 7, 1)
TT18_IN_FORCE = dt.date(2025, 10, 31)


@pytest.fixture(scope="module")
def content() -> Content:
    loaded = load_content()
    assert loaded.ok, loaded.errors
    return loaded


def citing(content: Content, source: str, articles: tuple[str, ...]) -> list[tuple[str, object]]:
    """(id, item) of every lesson and bank question that cites `source` at one of `articles`."""
    out: list[tuple[str, object]] = []
    for qid, q in content.questions.items():
        if q.citation.source == source and q.citation.article.split(" khoản")[0] in articles:
            out.append((qid, q))
    for lid, lesson in content.lessons.items():
        if any(c.source == source and c.article.split(" khoản")[0] in articles for c in lesson.citations()):
            out.append((lid, lesson))
    return out


def test_the_children_online_articles_of_the_2025_law_are_taught_from_the_day_it_is_in_force(
    content: Content,
) -> None:
    items = citing(content, "luat-anm-2025", ("Điều 16", "Điều 35"))
    ids = {i for i, _ in items}
    assert {"atm-luat-anm-2025-bao-ve-tre-em", "atm-tren-mang-em-duoc-bao-ve", "atm-anm25-pho-bien-kien-thuc"} <= ids
    assert len(items) >= 7
    for _id, item in items:
        assert item.valid_from == ANM_2025_IN_FORCE  # type: ignore[attr-defined]
    before = {q.id for q in content.questions_on(ANM_2025_IN_FORCE - dt.timedelta(days=1))}
    after = {q.id for q in content.questions_on(ANM_2025_IN_FORCE)}
    assert "atm-anm25-quyen-tre-em" in after and "atm-anm25-quyen-tre-em" not in before
    lessons_before = {x.id for x in content.lessons_on(ANM_2025_IN_FORCE - dt.timedelta(days=1))}
    assert "atm-luat-anm-2025-bao-ve-tre-em" not in lessons_before
    # The 2018 law's children's article (Điều 29) stops the day before: the new items take its place.
    old = {q.id for q in content.questions.values() if q.citation.source == "luat-anm-2018"}
    assert old and not old & after


def test_the_school_reporting_channels_of_thong_tu_18_start_on_31_october_2025(content: Content) -> None:
    items = citing(content, "tt-18-2025", ("Điều 19",))
    assert {"blhd-ke-voi-thay-co-tu-van", "blhd-tt18-bao-tin-o-truong", "blhd-tt18-van-ban-moi"} <= {
        i for i, _ in items
    }
    for _id, item in items:
        assert item.valid_from == TT18_IN_FORCE  # type: ignore[attr-defined]
    assert "blhd-tt18-kenh-gia-dinh" not in {q.id for q in content.questions_on(TT18_IN_FORCE - dt.timedelta(days=1))}
    assert "blhd-tt18-kenh-gia-dinh" in {q.id for q in content.questions_on(TT18_IN_FORCE)}
    assert content.cite(Citation(source="tt-18-2025", article="Điều 19 khoản 1")) == (
        "Khoản 1 Điều 19 Thông tư số 18/2025/TT-BGDĐT"
    )
    assert content.cite(Citation(source="luat-anm-2025", article="Điều 16 khoản 2")) == (
        "Khoản 2 Điều 16 Luật An ninh mạng số 116/2025/QH15"
    )


def test_thong_tu_31_2017_ends_on_30_october_2025_and_an_item_citing_it_must_stop(content: Content) -> None:
    old = content.sources["tt-31-2017"]
    assert (old.effective_until, old.replaced_by) == (dt.date(2025, 10, 30), "tt-18-2025")
    assert content.sources["tt-18-2025"].effective_from == TT18_IN_FORCE
    item = {
        "id": "blhd-tt31-thu-nghiem",
        "band": "lower_secondary",
        "difficulty": 1,
        "stem": "Một câu hỏi thử nghiệm trích thông tư cũ về tư vấn tâm lý?",
        "options": ["Một", "Hai", "Ba"],
        "answer": 0,
        "explanation": "Điều 4 Thông tư 31/2017/TT-BGDĐT (thử nghiệm).",
        "citation": {"source": "tt-31-2017", "article": "Điều 4"},
    }
    open_ended = Question.model_validate(item)
    content.questions[open_ended.id] = open_ended
    try:
        assert any("tt-31-2017 must end by 2025-10-30" in e for e in extra_checks(content))
        assert open_ended.id not in {q.id for q in content.questions_on(TT18_IN_FORCE)}
        content.questions[open_ended.id] = Question.model_validate({**item, "valid_until": "2025-10-30"})
        assert not any("tt-31-2017" in e for e in extra_checks(content))
    finally:
        del content.questions[open_ended.id]


def test_the_drug_crime_hotline_is_in_the_lesson_on_the_new_drug_law(content: Content) -> None:
    lesson = content.lessons["ma-tuy-luat-moi-2026"]
    help_card = next(c for c in lesson.cards if c.kind.value == "help")
    assert "0769.04.04.04" in help_card.text and "113" in help_card.text
    assert lesson.version == 2  # the lesson changed after students received it
    # Served only after the line opened (10/10/2025).
    assert content.lesson_window(lesson).start is not None
    assert content.lesson_window(lesson).start >= dt.date(2025, 10, 10)  # type: ignore[operator]


def test_the_standard_criteria_are_loaded_and_marked_unconfirmed(content: Content) -> None:
    standard = content.standard
    assert standard is not None and not standard.confirmed
    assert len(standard.criteria) >= 10
    assert len({c.id for c in standard.criteria}) == len(standard.criteria)
    assert all(c.group and c.text and c.evidence for c in standard.criteria)
    header = (DEFAULT_CONTENT_DIR / STANDARD_FILE).read_text(encoding="utf-8")
    assert "CẦN XÁC NHẬN" in header and "hướng dẫn của Công an tỉnh" in header


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(DEFAULT_CONTENT_DIR, tmp_path / "content")
    return tmp_path / "content"


def test_a_broken_standard_file_is_named_in_the_errors(root: Path) -> None:
    path = root / STANDARD_FILE
    original = yaml.safe_load(path.read_text(encoding="utf-8"))

    def write(change: dict) -> list[str]:
        data = {**original, "criteria": [dict(c) for c in original["criteria"]]}
        for i, fields in change.items():
            data["criteria"][i].update(fields)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return load_content(root).errors

    errors = write({1: {"id": original["criteria"][0]["id"]}})
    assert any(e.startswith("content/antt_standard.yaml: criteria") and "duplicate criterion id" in e for e in errors)
    errors = write({2: {"bang_chung": "trường lạ"}})
    assert any("antt_standard.yaml: criteria[2].bang_chung" in e for e in errors)
    path.unlink()
    assert "content/antt_standard.yaml: (file): missing" in load_content(root).errors
