"""What the core hands back to a channel adapter: text, an optional choice prompt, attachments."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from bot.core.events import ChannelAddress


@dataclass(frozen=True, slots=True)
class Choice:
    token: str  # opaque, short (fits Telegram's 64-byte callback data); never the answer itself
    label: str
    # A link instead of a choice (e.g. "open this lesson in the private chat"): a URL button on Telegram.
    url: str = ""
    # The link opens inside the chat app as a Mini App (Telegram's `web_app` button, private chats only);
    # elsewhere it is an ordinary link.
    web_app: bool = False


@dataclass(frozen=True, slots=True)
class ChoicePrompt:
    """Options the user picks one of: buttons on Telegram, numbered lines typed back elsewhere."""

    options: tuple[Choice, ...]
    columns: int = 1
    # Letters (A, B, C, D) for quiz answers; numbers for menus.
    lettered: bool = False


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    prompt: ChoicePrompt | None = None
    attachments: tuple[Attachment, ...] = ()
    # A hint that this reply replaces the message of the prompt just answered (Telegram edits in place).
    replace_previous: bool = False
    # Set when the reply goes to someone other than the sender (broadcasts, notices).
    to: ChannelAddress | None = None
    # A short notice for the tap itself (Telegram callback toast); other channels ignore it.
    toast: str = ""
    # False for a reply carrying a secret link (a sign-in link): no link preview, so no platform fetches it.
    link_preview: bool = True

    @property
    def choice_labels(self) -> list[str]:
        return [c.label for c in self.prompt.options] if self.prompt else []


def _option(c: Choice) -> list[str]:
    if c.web_app:
        return [c.token, c.label, c.url, "web_app"]
    return [c.token, c.label, c.url] if c.url else [c.token, c.label]


def _choice(option: list[object]) -> Choice:
    token, label, url, *flags = [str(x) for x in option] + ([""] if len(option) < 3 else [])
    return Choice(token, label, url, web_app="web_app" in flags)


def reply_to_dict(reply: Reply) -> dict[str, object]:
    """A reply as JSON-safe data, kept with its inbound update until it is sent."""
    out: dict[str, object] = {"text": reply.text}
    if reply.prompt:
        out["prompt"] = {
            "options": [_option(c) for c in reply.prompt.options],
            "columns": reply.prompt.columns,
            "lettered": reply.prompt.lettered,
        }
    if reply.attachments:
        out["attachments"] = [
            {
                "filename": a.filename,
                "mime_type": a.mime_type,
                "caption": a.caption,
                "content": base64.b64encode(a.content).decode(),
            }
            for a in reply.attachments
        ]
    if reply.replace_previous:
        out["replace_previous"] = True
    if reply.toast:
        out["toast"] = reply.toast
    if not reply.link_preview:
        out["link_preview"] = False
    if reply.to is not None:
        out["to"] = [reply.to.channel, reply.to.chat_id, reply.to.user_id, reply.to.chat_type]
    return out


def reply_from_dict(data: dict[str, object]) -> Reply:
    prompt = None
    raw_prompt = data.get("prompt")
    if isinstance(raw_prompt, dict):
        prompt = ChoicePrompt(
            tuple(_choice(option) for option in raw_prompt["options"]),
            columns=int(raw_prompt.get("columns", 1)),
            lettered=bool(raw_prompt.get("lettered")),
        )
    raw_attachments = data.get("attachments")
    attachments = tuple(
        Attachment(str(a["filename"]), base64.b64decode(a["content"]), str(a["mime_type"]), str(a.get("caption", "")))
        for a in (raw_attachments if isinstance(raw_attachments, list) else [])
    )
    to = data.get("to")
    return Reply(
        text=str(data.get("text", "")),
        prompt=prompt,
        attachments=attachments,
        replace_previous=bool(data.get("replace_previous")),
        toast=str(data.get("toast", "")),
        to=ChannelAddress(*to) if isinstance(to, list) else None,
        link_preview=data.get("link_preview", True) is not False,
    )
