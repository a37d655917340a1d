"""OA events to core events and core replies to OA messages, without a server."""

from __future__ import annotations

from bot.channels.zalo_oa.mapping import OAEvent, event_key, parse_update
from bot.channels.zalo_oa.render import MAX_BUTTONS, FilePart, TextPart, render
from bot.channels.zalo_oa.webhook import signature
from bot.core.events import EventKind
from bot.core.replies import Attachment, Choice, ChoicePrompt, Reply

OA = "579745863508352884"


def vi(message: str) -> str:
    return message


def event(name: str, **fields: object) -> dict[str, object]:
    return {"app_id": "1", "event_name": name, "timestamp": "1700000000000", **fields}


def test_text_taps_follow_unfollow_and_echoes() -> None:
    text = parse_update(event("user_send_text", sender={"id": "u1"}, message={"msg_id": "m1", "text": "/help"}), OA)
    assert isinstance(text, OAEvent) and text.kind is EventKind.COMMAND and text.command == "help"
    assert text.msg_id == "m1" and text.address.channel == "zalo_oa" and text.address.chat_id == "u1"
    tap = parse_update(event("user_send_text", sender={"id": "u1"}, message={"msg_id": "m2", "text": "#c:ab12"}), OA)
    assert tap is not None and tap.kind is EventKind.CHOICE and tap.token == "ab12"
    click = parse_update(
        event("user_click_button", sender={"id": "u1"}, message={"msg_id": "m3", "payload": "#c:z"}), OA
    )
    assert click is not None and click.kind is EventKind.CHOICE and click.token == "z"
    follow = parse_update(event("follow", follower={"id": "u2"}, oa_id=OA), OA)
    assert follow is not None and follow.command == "start" and follow.address.user_id == "u2"
    assert parse_update(event("unfollow", follower={"id": "u2"}, oa_id=OA), OA) is None
    echo = event("oa_send_text", sender={"id": OA}, recipient={"id": "u1"}, message={"msg_id": "m4", "text": "hi"})
    assert parse_update(echo, OA) is None
    own = event("user_send_text", sender={"id": OA}, message={"msg_id": "m5", "text": "hi"})
    assert parse_update(own, OA) is None
    sticker = parse_update(event("user_send_sticker", sender={"id": "u1"}, message={"msg_id": "m6"}), OA)
    assert sticker is not None and sticker.command == "media.unsupported"
    assert event_key(event("user_send_text", sender={"id": "u1"}, message={"msg_id": "m1"})) == "m:m1"
    assert event_key(event("follow", follower={"id": "u2"})) == "follow:u2:1700000000000"
    assert event_key({"message": {}}) is None


def test_a_prompt_within_the_limit_is_buttons_beyond_it_numbered_lines() -> None:
    few = ChoicePrompt(tuple(Choice(f"t{i}", f"Lựa chọn {i}") for i in range(3)), lettered=True)
    [part] = render([Reply("Câu 1", prompt=few)], vi)
    assert isinstance(part, TextPart) and part.text == "Câu 1"
    message = part.message("m1")
    assert message["quote_message_id"] == "m1"
    buttons = message["attachment"]["payload"]["buttons"]
    assert [b["title"] for b in buttons] == ["A. Lựa chọn 0", "B. Lựa chọn 1", "C. Lựa chọn 2"]
    assert {b["type"] for b in buttons} == {"oa.query.hide"} and buttons[0]["payload"] == "#c:t0"

    many = ChoicePrompt(tuple(Choice(f"t{i}", f"Mục {i}") for i in range(MAX_BUTTONS + 1)))
    [part] = render([Reply("Chọn:", prompt=many)], vi)
    assert isinstance(part, TextPart) and not part.buttons
    assert "1. Mục 0" in part.text and "👉 Gõ số (1–6) để chọn." in part.text

    link = ChoicePrompt((Choice("x", "Mở bài", url="https://example.org/bai"), Choice("y", "Về menu")))
    [part] = render([Reply("", prompt=link)], vi)
    assert part.text == "👇 Chọn bên dưới:"  # type: ignore[union-attr]
    assert part.buttons[0] == {"title": "Mở bài", "type": "oa.open.url", "payload": {"url": "https://example.org/bai"}}  # type: ignore[union-attr]


def test_long_text_is_split_and_the_buttons_close_the_last_message_files_in_order() -> None:
    prompt = ChoicePrompt((Choice("a", "Tiếp theo"),))
    long = "\n\n".join(f"Đoạn {i}: " + "chữ " * 60 for i in range(20))
    workbook = Attachment(
        "kq.xlsx", b"PK", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Kết quả"
    )
    parts = render([Reply(long, prompt=prompt), Reply("Tệp:", attachments=(workbook,))], vi)
    texts = [p for p in parts if isinstance(p, TextPart)]
    assert len(texts) >= 4 and all(len(p.text) <= 2000 for p in texts)
    with_buttons = [i for i, p in enumerate(parts) if isinstance(p, TextPart) and p.buttons]
    assert len(with_buttons) == 1 and isinstance(parts[with_buttons[0] + 1], TextPart)
    assert parts[-2].text == "Tệp:\n\nKết quả"  # type: ignore[union-attr]
    assert isinstance(parts[-1], FilePart) and parts[-1].kind == "file"
    assert parts[-1].message("tok") == {"attachment": {"type": "file", "payload": {"token": "tok"}}}


def test_the_signature_is_plain_sha256_of_app_id_body_timestamp_and_key() -> None:
    # Not an HMAC: sha256(b'app{"a":1}123key'), the concatenation Chatwoot and GoClaw hash.
    assert (
        signature("app", b'{"a":1}', "123", "key")
        == "mac=98e3957b5c5cfa9d50341861fa7dd53b4e00f83ac803dc2ea0a1235092877b10"
    )
    assert signature("app", b'{"a":1}', "124", "key") != signature("app", b'{"a":1}', "123", "key")
