"""Citations as a Vietnamese official text writes them: the smallest unit first ("điểm a khoản 1 Điều 59"), then
the instrument by its name and number ("Luật Trật tự, an toàn giao thông đường bộ số 36/2024/QH15")."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.content.loader import Content, load_content
from bot.content.models import Citation, Source, vietnamese_order


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Điều 59 khoản 1 điểm a", "điểm a khoản 1 Điều 59"),
        ("Điều 2 khoản 5", "khoản 5 Điều 2"),
        ("Điều 39 khoản 1 điểm e, g", "điểm e và điểm g khoản 1 Điều 39"),
        ("Điều 27 khoản 4 điểm a, b, c", "điểm a, điểm b và điểm c khoản 4 Điều 27"),
        ("Khoản 3 Điều 5", "khoản 3 Điều 5"),
        ("Điều 256a", "Điều 256a"),
        ("Điểm 2.2", "điểm 2.2"),
        ("Điều 5 (khoản 1)", "Điều 5 (khoản 1)"),
    ],
)
def test_article_parts_read_from_the_smallest(written: str, read: str) -> None:
    assert vietnamese_order(written) == read


def test_bundled_citations_name_the_instrument_after_the_article(content: Content) -> None:
    cite = content.cite
    assert cite(Citation(source="luat-ttatgtdb-2024", article="Điều 59 khoản 1 điểm a"), capital=False) == (
        "điểm a khoản 1 Điều 59 Luật Trật tự, an toàn giao thông đường bộ số 36/2024/QH15"
    )
    assert cite(Citation(source="luat-ttatgtdb-2024", article="Điều 59 khoản 1 điểm a")).startswith("Điểm a khoản 1")
    decree = Citation(source="nd-168-2024", article="Điều 7 khoản 2")
    assert cite(decree) == "Khoản 2 Điều 7 Nghị định số 168/2024/NĐ-CP"
    assert cite(Citation(source="blhs-2015", article="Điều 256a")) == (
        "Điều 256a Bộ luật Hình sự số 100/2015/QH13 (sửa đổi, bổ sung năm 2017 và bởi Luật 86/2025/QH15)"
    )
    assert cite(Citation(source="nq-173-2024", article="Điểm 2.2")) == "Điểm 2.2 Nghị quyết số 173/2024/QH15"


def test_no_bundled_citation_reads_in_the_old_order(content: Content) -> None:
    citations = [q.citation for q in content.questions.values()]
    citations += [c for lesson in content.lessons.values() for card in lesson.cards for c in card.citations or []]
    assert len(citations) > 100
    for c in citations:
        text = content.cite(c)
        assert ", " + content.sources[c.source].kind not in text, text
        assert " số " + content.sources[c.source].number in text, text
        if "khoản" in c.article:
            assert text.index("hoản") < text.index("Điều"), text


def test_texts_students_read_cite_in_the_vietnamese_order_too(content: Content) -> None:
    """Explanations, stems, options and lesson cards name articles as the citations do: "khoản 2 Điều 33", never
    "Điều 33 khoản 2"."""
    import re

    old_order = re.compile(r"Điều \d+[a-z]? khoản \d+")
    texts = []
    for q in content.questions.values():
        texts += [q.stem, q.explanation, *q.options]
    for lesson in content.lessons.values():
        texts += [card.text for card in lesson.cards if card.text]
        texts += [t for c in lesson.checks for t in (c.stem, c.explanation, *c.options)]
    assert len(texts) > 500
    wrong = [t for t in texts if old_order.search(t)]
    assert wrong == []


def test_an_instrument_that_ends_before_it_starts_is_refused() -> None:
    written = {
        "id": "tt-thu",
        "number": "01/2020/TT-BGDĐT",
        "title": "Thông tư thử",
        "kind": "Thông tư",
        "issuer": "Bộ Giáo dục và Đào tạo",
        "effective_from": "2020-05-01",
    }
    assert Source.model_validate(written).effective_until is None
    with pytest.raises(ValidationError, match="effective_until is before effective_from"):
        Source.model_validate(written | {"effective_until": "2020-04-30"})
