"""The free-text matcher against the word lists a school edits (content/understanding.yaml): every phrase of
every list is found typed with and without diacritics, in capitals and with stretched letters; teen spellings;
the false positives the lists are written to avoid."""

from __future__ import annotations

import pytest

from bot.content.loader import DEFAULT_CONTENT_DIR
from bot.content.understanding import load_understanding
from bot.core.text import fold
from bot.core.understanding import GAP, Intent, Lexicon, intent, is_distress, spelling_key, words


def _lexicon() -> Lexicon:
    errors: list[str] = []
    found = load_understanding(DEFAULT_CONTENT_DIR, "content", errors)
    assert found is not None, errors
    return found.lexicon


LEXICON = _lexicon()


def typed(phrase: str) -> str:
    """A phrase as a child would write it, with two words where the list allows a gap."""
    return " ".join(phrase.replace(GAP, " các bạn ").split())


def stretched(text: str) -> str:
    """The last letter typed four times ("cứu" -> "cứuuuu")."""
    return text + text[-1] * 3


def variants(text: str) -> list[str]:
    return [text, fold(text), text.upper(), stretched(text), stretched(fold(text))]


@pytest.mark.parametrize("phrase", LEXICON.distress)
def test_every_distress_phrase_is_found_with_and_without_diacritics(phrase: str) -> None:
    for text in variants(typed(phrase)):
        assert is_distress(f"em {text} rồi", LEXICON), text
        assert is_distress(f"{text}!!!", LEXICON), text


@pytest.mark.parametrize(("name", "phrase"), [(n, p) for n, ps in LEXICON.intents.items() for p in ps])
def test_every_intent_phrase_runs_its_intent_with_and_without_diacritics(name: str, phrase: str) -> None:
    for text in variants(typed(phrase)):
        assert intent(f"cho em {text} nhé", LEXICON) == Intent(name), text
        assert not is_distress(f"cho em {text} nhé", LEXICON), text


@pytest.mark.parametrize(("short", "meant"), list(LEXICON.spellings.items()))
def test_every_spelling_stands_for_its_words(short: str, meant: str) -> None:
    assert [w.exact for w in words(short, LEXICON.spellings)] == [w.exact for w in words(meant)]
    assert [w.exact for w in words(short.upper() + short[-1] * 2, LEXICON.spellings)] == [w.exact for w in words(meant)]


@pytest.mark.parametrize(
    "text",
    [
        "em bị các bạn đánh, em sợ lắm",
        "cứu em với",
        "cuuuu e voiii",
        "e bj bn đánh",
        "em bi danh hoi dong",
        "e ko muon song nua",
        "mik muốn chết",
        "muon chet qua",
        "co ng ru e hut",
        "k ai giúp e, e sợ quáaaa",
        "có người rủ em dùng ma túy",
        "co nguoi ru em dung ma tuy",
        "chú hàng xóm sờ vào người em",
        "EM BỊ BẮT NẠT",
        "em không bị đánh đâu",  # a negation still gets the hotlines: erring on the side of care
    ],
)
def test_distress_as_children_write_it(text: str) -> None:
    assert is_distress(text, LEXICON)


@pytest.mark.parametrize(
    "text",
    [
        "em bị cô đánh giá thấp",
        "em đánh răng rồi",
        "em đánh vần chưa giỏi",
        "số cứu hỏa là bao nhiêu",
        "gọi cứu hộ khi kẹt thang máy",
        "bài cũ",
        "bai cu",  # "cũ" typed without diacritics is not "cứu"
        "em thích học",
        "hôm nay trời đẹp",
        "bí mật",
        "em bị ốm",
        "có thể bị truy cứu trách nhiệm hình sự",
        "em thích nghiên cứu khoa học",
    ],
)
def test_not_distress(text: str) -> None:
    assert not is_distress(text, LEXICON)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("em muốn học bài", Intent("lessons")),
        ("e muon luyen tap", Intent("practice")),
        ("cho em vào lớp K7M2QX nhé", Intent("join", "K7M2QX")),
        ("vao lop abc234", Intent("join", "abc234")),
        ("em muốn vào lớp", Intent("join")),
        ("em muốn thi", Intent("contest")),
        ("xem tiến độ của em", Intent("progress")),
        ("em cần trợ giúp", Intent("help")),
        ("bài cô giao đâu ạ", Intent("assigned")),
        ("em thích đi chơi", None),  # "thi" is not found inside "thích"
        ("em thì chưa biết", None),  # nor is "thì" typed with its diacritics
        ("thiên nhiên đẹp quá", None),
    ],
)
def test_intents(text: str, expected: Intent | None) -> None:
    assert intent(text, LEXICON) == expected


def test_spellings_are_looked_up_whole_and_collapsed() -> None:
    assert spelling_key(" KOOO ") == "ko"
    # "hồng" (pink) is a word of its own, not a teen "không".
    assert [w.exact for w in words("hồng", LEXICON.spellings)] == ["hồng"]
