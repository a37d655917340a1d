"""Rendering rules: text split at 4096 UTF-16 units on good boundaries, opaque short callback data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.telegram.render import keyboard, message_text, split_text, utf16_len
from bot.core.replies import Choice, ChoicePrompt, Reply

VIETNAMESE = st.text(
    alphabet=st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạếềểễệọ ộớờ 🚦🔥\n")), min_size=0, max_size=12000
)


@settings(max_examples=60, deadline=None)
@given(VIETNAMESE)
def test_chunks_fit_and_join_back(text: str) -> None:
    chunks = split_text(text)
    assert "".join(chunks) == text
    assert all(utf16_len(c) <= 4096 for c in chunks)


def test_splits_at_paragraphs_then_lines() -> None:
    para = "Điều 5. " + "Học sinh cần đội mũ bảo hiểm khi đi xe đạp điện. " * 40
    text = "\n\n".join([para] * 6)
    chunks = split_text(text)
    assert len(chunks) > 1 and all(c.endswith("\n\n") for c in chunks[:-1])
    lines = "\n".join(["một dòng khá dài " * 10] * 60)
    assert all(c.endswith("\n") for c in split_text(lines)[:-1])


def test_lettered_prompts_put_the_answers_in_the_text_and_letters_on_buttons() -> None:
    prompt = ChoicePrompt((Choice("t1", "Đi bên phải"), Choice("t2", "Đi giữa đường")), lettered=True)
    reply = Reply("Câu 1/5\nKhi đi bộ em đi ở đâu?", prompt=prompt)
    assert message_text(reply).endswith("A. Đi bên phải\nB. Đi giữa đường")
    markup = keyboard(prompt)
    assert markup is not None
    assert markup["inline_keyboard"] == [[{"text": "A", "callback_data": "t1"}, {"text": "B", "callback_data": "t2"}]]


def test_callback_data_over_64_bytes_is_refused_before_sending() -> None:
    with pytest.raises(AssertionError):
        keyboard(ChoicePrompt((Choice("đ" * 33, "x"),)))


def test_link_choices_become_url_buttons() -> None:
    markup = keyboard(ChoicePrompt((Choice("", "📖 Mở bài học", url="https://t.me/b?start=L_x"),)))
    assert markup == {"inline_keyboard": [[{"text": "📖 Mở bài học", "url": "https://t.me/b?start=L_x"}]]}


def test_a_mini_app_link_is_a_web_app_button_in_private_chats_only() -> None:
    prompt = ChoicePrompt((Choice("", "🌐 Mở trang làm bài", url="https://antt.example.vn/thi/tg?r=3", web_app=True),))
    private = keyboard(prompt, private=True)
    group = keyboard(prompt, private=False)
    assert private is not None and group is not None
    assert private["inline_keyboard"] == [
        [{"text": "🌐 Mở trang làm bài", "web_app": {"url": "https://antt.example.vn/thi/tg?r=3"}}]
    ]
    assert group["inline_keyboard"] == [[{"text": "🌐 Mở trang làm bài", "url": "https://antt.example.vn/thi/tg?r=3"}]]


def test_a_mini_app_button_survives_the_outbox() -> None:
    from bot.core.replies import reply_from_dict, reply_to_dict

    reply = Reply(
        "x", prompt=ChoicePrompt((Choice("", "Mở", url="https://a.vn/thi/tg", web_app=True), Choice("t", "B")))
    )
    assert reply_from_dict(reply_to_dict(reply)) == reply
