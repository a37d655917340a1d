"""Checks on the bundled content: schema, ids, citations, dates, lengths, counts and the law switches."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.content.checks import all_questions, extra_checks, near_duplicates, normalise
from bot.content.loader import Content, load_content
from bot.content.models import CARD_MAX, EXPLANATION_MAX, OPTION_MAX, TOPICS, Band

PUBLISH_DAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


def test_content_loads_without_errors(content: Content) -> None:
    assert content.errors == []
    assert content.ok


def test_extra_checks_pass(content: Content) -> None:
    assert extra_checks(content) == []


def test_ids_are_unique_across_lessons_checks_and_bank(content: Content) -> None:
    ids = list(content.lessons) + [q.id for _, q in all_questions(content)]
    assert len(ids) == len(set(ids))


def test_every_citation_resolves_to_a_source_in_force_over_the_item(content: Content) -> None:
    for lesson in content.lessons.values():
        window = content.lesson_window(lesson)
        for c in lesson.citations():
            src = content.sources[c.source]
            assert window.start is not None and src.effective_from <= window.start, (lesson.id, c)
            if src.effective_until is not None:
                assert window.end is not None and window.end <= src.effective_until, (lesson.id, c)
    for qid, q in content.questions.items():
        src = content.sources[q.citation.source]
        window = content.question_window(q)
        assert not window.empty, qid
        assert window.start is not None and src.effective_from <= window.start, qid
        if src.effective_until is not None:
            assert window.end is not None and window.end <= src.effective_until, qid


def test_sources_replaced_by_chain(content: Content) -> None:
    for src in content.sources.values():
        if src.replaced_by:
            new = content.sources[src.replaced_by]
            assert src.effective_until is not None
            assert new.effective_from == src.effective_until + dt.timedelta(days=1)


def test_no_near_duplicate_stems(content: Content) -> None:
    stems = [(where, q.stem) for where, q in all_questions(content)]
    assert near_duplicates(stems) == []


def test_near_duplicate_detector_catches_copies() -> None:
    a = "Bạn Tùng đánh bạn cùng lớp vì bạn không cho mượn bút. Việc làm của Tùng là gì?"
    b = "Bạn Hùng đánh bạn cùng lớp vì bạn không cho mượn bút! Việc làm của Hùng là gì?"
    c = "Em thấy khói bốc ra từ ổ điện. Việc đầu tiên em làm là gì?"
    assert normalise("Đường ĐI, bộ!") == "duong di bo"
    pairs = near_duplicates([("a", a), ("b", b), ("c", c)])
    assert [(x, y) for x, y, _ in pairs] == [("a", "b")]


def test_length_limits(content: Content) -> None:
    for lesson in content.lessons.values():
        assert all(len(card.text) <= CARD_MAX for card in lesson.cards), lesson.id
    for _, q in all_questions(content):
        assert len(q.explanation) <= EXPLANATION_MAX, q.id
        assert all(len(o) <= OPTION_MAX for o in q.options), q.id


def test_lessons_have_law_todo_help_and_two_or_three_checks(content: Content) -> None:
    for lesson in content.lessons.values():
        kinds = [c.kind.value for c in lesson.cards]
        assert {"law", "todo", "help"} <= set(kinds), lesson.id
        assert 3 <= len(lesson.cards) <= 6
        assert 2 <= len(lesson.checks) <= 3, lesson.id
        assert all(q.band == lesson.band for q in lesson.checks), lesson.id


@pytest.mark.parametrize("topic", TOPICS)
def test_counts_per_topic_and_band(content: Content, topic: str) -> None:
    lessons = [lesson for lesson in content.lessons.values() if lesson.topic == topic]
    assert sum(1 for x in lessons if x.band is Band.PRIMARY) >= 3
    assert sum(1 for x in lessons if x.band is Band.LOWER_SECONDARY) >= 3
    qs = [q for qid, q in content.questions.items() if content.question_topic[qid] == topic]
    assert len(qs) >= 40
    for band in Band:
        assert sum(1 for q in qs if q.band is band) >= 10, band
    assert {q.difficulty for q in qs} == {1, 2, 3}


@pytest.mark.parametrize("topic", TOPICS)
def test_enough_is_served_on_publish_day(content: Content, topic: str) -> None:
    for band in Band:
        assert len(content.lessons_on(PUBLISH_DAY, topic, band)) >= 3, (topic, band)
    assert len(content.questions_on(PUBLISH_DAY, topic)) >= 20, topic


def test_nothing_served_cites_an_instrument_outside_its_window(content: Content) -> None:
    served_q = content.questions_on(PUBLISH_DAY)
    served_l = content.lessons_on(PUBLISH_DAY)
    assert served_q and served_l
    for q in served_q:
        assert content.sources[q.citation.source].in_force(PUBLISH_DAY), q.id
    for lesson in served_l:
        for c in lesson.citations():
            assert content.sources[c.source].in_force(PUBLISH_DAY), (lesson.id, c.source)
    served_ids = {q.id for q in served_q}
    assert not any(content.questions[i].citation.source == "luat-pcmt-2021" for i in served_ids)
    assert not any(content.questions[i].citation.source == "nd-168-2024" for i in served_ids)


def test_drug_law_items_switch_on_1_july_2026(content: Content) -> None:
    before, after = dt.date(2026, 6, 30), dt.date(2026, 7, 1)
    q_before = {q.id for q in content.questions_on(before, "ma-tuy")}
    q_after = {q.id for q in content.questions_on(after, "ma-tuy")}
    old_law = {qid for qid, q in content.questions.items() if q.citation.source == "luat-pcmt-2021"}
    assert old_law and old_law <= q_before
    assert not old_law & q_after
    l_before = {x.id for x in content.lessons_on(before, "ma-tuy")}
    l_after = {x.id for x in content.lessons_on(after, "ma-tuy")}
    assert "ma-tuy-chat-ma-tuy-la-gi" in l_before and "ma-tuy-chat-ma-tuy-la-gi" not in l_after
    assert "ma-tuy-luat-moi-2026" in l_after and "ma-tuy-luat-moi-2026" not in l_before
    assert "ma-tuy-an-toan-voi-do-la-2026" in l_after and "ma-tuy-an-toan-voi-do-la-2026" not in l_before


def test_cybersecurity_law_switch_on_1_july_2026(content: Content) -> None:
    before, after = dt.date(2026, 6, 30), dt.date(2026, 7, 1)
    by_source = {q.citation.source for q in content.questions_on(before, "an-toan-mang")}
    assert "luat-anm-2018" in by_source and "luat-anm-2025" not in by_source
    by_source = {q.citation.source for q in content.questions_on(after, "an-toan-mang")}
    assert "luat-anm-2025" in by_source and "luat-anm-2018" not in by_source


def test_traffic_fines_stop_before_the_unverified_amendment(content: Content) -> None:
    fines = [q for q in content.questions.values() if q.citation.source == "nd-168-2024"]
    assert fines
    assert all(q.valid_until == dt.date(2026, 8, 14) for q in fines)
    served = {q.id for q in content.questions_on(dt.date(2026, 8, 15))}
    assert not {q.id for q in fines} & served
