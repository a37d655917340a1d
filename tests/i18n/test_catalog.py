"""The English catalog is complete: every message extracted from the code has a translation that keeps the
message's placeholders, commands, hotline numbers and legal citations."""

from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Catalog

from bot import i18n_tools
from bot.core.i18n import I18n
from tests.i18n.helpers import VIETNAMESE


@pytest.fixture(scope="module")
def template() -> Catalog:
    return i18n_tools.extract()  # in memory: the committed messages.pot may lag behind the code


@pytest.fixture(scope="module")
def english() -> Catalog:
    return i18n_tools.read_catalog("en")


def pairs(template: Catalog, english: Catalog) -> list[tuple[str, str]]:
    out = []
    for message in template:
        found = english.get(message.id) if message.id else None
        if found is not None and found.string:
            out.append((str(message.id), str(found.string)))
    return out


def test_every_message_in_the_code_has_an_english_translation(template: Catalog, english: Catalog) -> None:
    assert len(template) > 400  # the extraction found the bot's messages
    missing = i18n_tools.untranslated(template, english)
    assert missing == [], "untranslated (run `python -m bot i18n extract`, translate, then `i18n check`):\n" + (
        "\n".join(missing)
    )


def test_translations_keep_the_same_placeholders(template: Catalog, english: Catalog) -> None:
    wrong = [
        (msgid, text)
        for msgid, text in pairs(template, english)
        if i18n_tools.placeholders(msgid) != i18n_tools.placeholders(text)
    ]
    assert wrong == []
    assert i18n_tools.mismatched_placeholders(english) == []


def test_fragments_keep_their_edges_and_lines(template: Catalog, english: Catalog) -> None:
    """Pieces such as " – hạn {date}" are glued to other text: their leading or trailing space must stay, and a
    multi-line message keeps its line count (the lines are laid out by the code)."""
    wrong = [
        msgid
        for msgid, text in pairs(template, english)
        if (msgid[:1].isspace(), msgid[-1:].isspace()) != (text[:1].isspace(), text[-1:].isspace())
        or msgid.count("\n") != text.count("\n")
    ]
    assert wrong == []


KEPT = [
    re.compile(r"(?<![\w/])/[a-z]+\b"),  # commands: /start, /help, /privacy...
    re.compile(r"\b11[1-5]\b"),  # emergency numbers
    re.compile(r"\b\d+/\d{4}/QH\d+\b"),  # laws: 91/2025/QH15
    re.compile(r"\bK7M2QX\b"),  # example codes the user types
]


def test_commands_numbers_and_citations_survive_translation(template: Catalog, english: Catalog) -> None:
    wrong = []
    for msgid, text in pairs(template, english):
        for pattern in KEPT:
            missing = set(pattern.findall(msgid)) - set(pattern.findall(text))
            if missing:
                wrong.append((msgid, sorted(missing)))
    assert wrong == []


def test_untranslated_counts_empty_fuzzy_and_absent_messages() -> None:
    template = Catalog(locale=None)
    for msgid in ("Có", "Không", "Hủy", "Trợ giúp"):
        template.add(msgid)
    catalog = Catalog(locale="en")
    catalog.add("Có", "Yes")
    catalog.add("Không", "")
    catalog.add("Hủy", "Cancel", flags=["fuzzy"])  # a guess by the merge, not a translation: not used at runtime
    assert i18n_tools.untranslated(template, catalog) == ["Không", "Hủy", "Trợ giúp"]


def test_placeholders_by_name_ignore_format_specs() -> None:
    assert i18n_tools.placeholders("{rank}. {name}: tỉ lệ {rate:.0%}") == {"rank", "name", "rate"}
    assert i18n_tools.placeholders("{d:02d}/{m:02d}/{y}") == {"d", "m", "y"}
    assert i18n_tools.placeholders("không có") == set()


def test_check_command_passes_on_the_committed_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    assert i18n_tools.main("check") == 0
    out = capsys.readouterr().out
    assert "untranslated" not in out and "en: " in out


def test_the_app_reads_the_english_catalog_and_falls_back_to_vietnamese() -> None:
    i18n = I18n()
    assert i18n.gettext("en", "Trợ giúp") == "Help"
    assert i18n.gettext("vi", "Trợ giúp") == "Trợ giúp"
    assert i18n.gettext("fr", "Trợ giúp") == "Trợ giúp"  # an unknown locale gets Vietnamese


# English translations that keep Vietnamese on purpose.
VIETNAMESE_ON_PURPOSE = {
    "Đã đổi ngôn ngữ sang Tiếng Việt.",  # said right after switching to Vietnamese
    "Em gõ họ và tên của em để thầy cô nhận ra nhé (ví dụ: Nguyễn Văn An).",  # a Vietnamese name as the example
}


def test_english_translations_are_not_vietnamese_copies(template: Catalog, english: Catalog) -> None:
    left = [msgid for msgid, text in pairs(template, english) if VIETNAMESE.search(text)]
    assert sorted(left) == sorted(VIETNAMESE_ON_PURPOSE)
