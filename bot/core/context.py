"""The context of one handled event: who, where, what they were doing, and the replies collected so far."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.content.loader import Content
from bot.core.events import IncomingEvent
from bot.core.i18n import I18n
from bot.core.ports import ConversationRec, UnitOfWork, UserRec
from bot.core.replies import Choice, ChoicePrompt, Reply
from bot.reports.options import ReportOptions

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class CoreSettings:
    practice_questions: int = 5
    invite_ttl_hours: int = 72
    notice_version: str = "2026-01"
    max_text_length: int = 1000
    bot_username: str | None = None  # Telegram username, for deep links
    reports: ReportOptions = field(default_factory=ReportOptions)  # issuing body, place, cut-offs (REPORT_*)
    retention_days: int = 365  # shown in /privacy; bot.runtime.retention enforces it
    flood_events: int = 0  # per-account limit: events per `flood_seconds` (0: off; the app sets FLOOD_EVENTS)
    flood_seconds: float = 2.0


class UserFacingError(Exception):
    """A problem the user caused and can fix; its message (already translated) is shown as is."""


@dataclass
class Context:
    uow: UnitOfWork
    user: UserRec
    conv: ConversationRec
    event: IncomingEvent
    now: dt.datetime
    content: Content
    settings: CoreSettings
    i18n: I18n
    out: list[Reply] = field(default_factory=list)
    # Set when handling a choice: answers to it may replace the message that carried it.
    answering_prompt: bool = False

    @property
    def today(self) -> dt.date:
        """Content validity follows the date in Vietnam."""
        return self.now.astimezone(VN_TZ).date()

    def _(self, message: str) -> str:
        return self.i18n.gettext(self.user.locale, message)

    def say(self, text: str, **kwargs: Any) -> None:
        self.out.append(Reply(text=text, **kwargs))

    def ask(
        self,
        text: str,
        options: list[tuple[str, str]],
        *,
        lettered: bool = False,
        columns: int = 1,
        replace_previous: bool = False,
        toast: str = "",
    ) -> None:
        """Offer choices. Each option is (label, action); the user gets opaque tokens, the action stays here."""
        stored: list[list[str]] = []
        choices: list[Choice] = []
        used: set[str] = set()
        for label, action in options:
            token = secrets.token_hex(4)
            while token in used:
                token = secrets.token_hex(4)
            used.add(token)
            stored.append([token, action, label])
            choices.append(Choice(token=token, label=label))
        pinned = self.conv.prompt.get("pinned")
        self.conv.prompt = {"options": stored, "lettered": lettered, "text": text, "columns": columns}
        if pinned:  # buttons on broadcast messages (sent from outside this conversation) stay valid
            self.conv.prompt["pinned"] = pinned
        self.out.append(
            Reply(
                text=text,
                prompt=ChoicePrompt(tuple(choices), columns=columns, lettered=lettered),
                replace_previous=replace_previous,
                toast=toast,
            )
        )

    def repeat_prompt(self, prefix: str = "") -> None:
        """Show the pending choices again, with the same tokens (old buttons stay valid)."""
        prompt = self.conv.prompt
        if not prompt.get("options"):
            return
        choices = tuple(Choice(token=t, label=label) for t, _a, label in prompt["options"])
        text = f"{prefix}\n\n{prompt.get('text', '')}".strip() if prefix else prompt.get("text", "")
        self.out.append(
            Reply(
                text=text,
                prompt=ChoicePrompt(choices, columns=prompt.get("columns", 1), lettered=bool(prompt.get("lettered"))),
            )
        )

    def set_flow(self, flow: str, step: str = "", **data: Any) -> None:
        self.conv.flow, self.conv.step, self.conv.data = flow, step, dict(data)

    def clear(self) -> None:
        pinned = self.conv.prompt.get("pinned")
        self.conv.flow, self.conv.step, self.conv.data, self.conv.prompt = "", "", {}, {}
        if pinned:
            self.conv.prompt["pinned"] = pinned
