"""Rendering replies as Zalo text, splitting long text, mapping updates, and the send pacing."""

from __future__ import annotations

import pytest

from bot.channels.zalo.client import text_length
from bot.channels.zalo.mapping import external_id, parse_update, unwrap
from bot.channels.zalo.render import render_messages, split_text
from bot.channels.zalo.transport import RateLimiter
from bot.core.events import EventKind
from bot.core.replies import Attachment, Choice, ChoicePrompt, Reply
from tests.fakes.zalo_server import image_update, text_update


def same(message: str) -> str:
    return message


def test_choices_become_lines_typed_back_with_a_hint() -> None:
    quiz = Reply("Câu 1/5: ...?", ChoicePrompt((Choice("t1", "Đúng"), Choice("t2", "Sai")), lettered=True))
    menu = Reply("Em muốn làm gì?", ChoicePrompt((Choice("t3", "📚 Học bài"), Choice("t4", "🆘 Trợ giúp"))))
    [text] = render_messages([Reply("✅ Đúng rồi!"), quiz], same)
    assert text == "✅ Đúng rồi!\n\nCâu 1/5: ...?\n\nA. Đúng\nB. Sai\n👉 Gõ chữ cái (A–B) để chọn."
    [text] = render_messages([menu], same)
    assert text.endswith("1. 📚 Học bài\n2. 🆘 Trợ giúp\n👉 Gõ số (1–2) để chọn.")
    assert "t1" not in text  # opaque tokens never reach the user


def test_files_are_explained_instead_of_sent() -> None:
    reply = Reply("Kết quả hội thi", attachments=(Attachment("ket-qua.xlsx", b"x", "application/vnd.ms-excel"),))
    [text] = render_messages([reply], same)
    assert "ket-qua.xlsx" in text and "Zalo" in text and "/link" in text


def test_a_long_lesson_is_split_at_sentence_boundaries_under_the_limit() -> None:
    sentence = "Người tham gia giao thông phải đội mũ bảo hiểm khi đi xe máy. "
    lesson = "📖 Bài học dài\n\n" + sentence * 80  # about 5,000 characters, one paragraph
    chunks = split_text(lesson)
    assert len(chunks) == 3 and all(text_length(c) <= 2000 for c in chunks)
    assert all(c.endswith("xe máy.") for c in chunks)
    assert " ".join(chunks).replace("\n\n", " ") == lesson.strip().replace("\n\n", " ")


def test_emoji_count_double_and_no_word_is_cut() -> None:
    text = "🚦" * 1500  # 3,000 UTF-16 units, no spaces at all
    chunks = split_text(text)
    assert all(text_length(c) <= 2000 for c in chunks) and "".join(chunks) == text
    words = ("an toàn " * 600).strip()
    assert all(not c.endswith("to") for c in split_text(words))


def test_sender_name_fields_vary_and_the_name_is_not_needed() -> None:
    for field in ("display_name", "first_name", "name"):
        event = parse_update(text_update("u1", "/start", name_field=field), bot_id="999")
        assert event is not None and event.kind is EventKind.COMMAND and event.command == "start"
        assert (event.address.channel, event.address.chat_id, event.address.user_id) == ("zalo", "u1", "u1")


def test_missing_event_name_with_text_is_text_and_keys_are_event_and_message() -> None:
    update = text_update("u1", "thi", message_id="abc")
    del update["event_name"]
    assert external_id(update) == "message.text.received:abc"
    event = parse_update(update, bot_id="999")
    assert event is not None and event.kind is EventKind.TEXT and event.text == "thi"
    assert external_id(image_update("u1", "abc")) == "message.image.received:abc"
    assert external_id({"event_name": "x"}) is None
    assert unwrap({"ok": True, "result": update}) == [update] and unwrap("nonsense") == []


def test_self_echo_and_bots_are_dropped() -> None:
    echo = text_update("999", "xin chào")
    assert parse_update(echo, bot_id="999") is None
    other_bot = text_update("u5", "hi")
    other_bot["message"]["from"]["is_bot"] = True
    assert parse_update(other_bot, bot_id="999") is None


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.mark.parametrize("chats", [1, 10])
async def test_the_limiter_keeps_to_the_overall_and_per_chat_rates(chats: int) -> None:
    t = FakeTime()
    limiter = RateLimiter(per_second=5, per_chat_per_second=1, chat_burst=3, clock=t, sleep=t.sleep)
    for i in range(20):
        await limiter.acquire(f"chat{i % chats}")
    # One chat: a burst of 3, then 1 a second (17 s more). Ten chats: 5 at once, then 5 a second (3 s more).
    assert t.now == pytest.approx(17.0 if chats == 1 else 3.0)
    limiter.pause(30)
    before = t.now
    await limiter.acquire("another")
    assert t.now - before == pytest.approx(30.0)
