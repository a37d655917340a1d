"""The context of one handled event: who, where, what they were doing, and the replies collected so far."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.core.clock import vn_date
from bot.core.errors import BACK_TO_MENU, STAFF_FORMS, STALE, UserFacingError
from bot.core.events import IncomingEvent
from bot.core.i18n import I18n
from bot.core.ports import ConversationRec, UnitOfWork, UserRec
from bot.core.replies import Choice, ChoicePrompt, Reply
from bot.core.roles import STAFF

if TYPE_CHECKING:
    from bot.core.router import Router

U = TypeVar("U", bound=UnitOfWork, covariant=True)
E = TypeVar("E", covariant=True)


@dataclass
class CoreSettings:
    """What the kernel itself needs; each feature's own settings travel in the environment (`Context.env`)."""

    max_text_length: int = 1000
    bot_username: str | None = None  # Telegram username, for deep links (set by the Telegram channel at start)
    flood_events: int = 0  # per-account limit: events per `flood_seconds` (0: off; the app sets FLOOD_EVENTS)
    flood_seconds: float = 2.0


@dataclass
class Context(Generic[U, E]):
    """`U` is the unit of work as a feature sees it (its protocol of repositories), `E` the environment it reads
    (content, its settings); a feature names its own pair once, e.g. `Ctx = Context[ContestsUnitOfWork, ...]`."""

    uow: U
    user: UserRec
    conv: ConversationRec
    event: IncomingEvent
    now: dt.datetime
    env: E
    settings: CoreSettings
    i18n: I18n
    router: Router
    out: list[Reply] = field(default_factory=list)
    # Set when handling a choice: answers to it may replace the message that carried it.
    answering_prompt: bool = False
    # Set when the text typed must not be kept anywhere, not even in the stored inbound update (distress).
    forget_text: bool = False

    @property
    def today(self) -> dt.date:
        """Content validity follows the date in Vietnam."""
        return vn_date(self.now)

    @property
    def is_staff(self) -> bool:
        """Teachers, school admins and organizers, who are addressed as "thầy/cô"; everyone else as "em"."""
        return self.user.role in STAFF

    def _(self, message: str) -> str:
        """`message` translated for the user; a shared sentence (bot.core.errors) in its staff form for staff."""
        if self.user.role in STAFF:
            message = STAFF_FORMS.get(message, message)
        return self.i18n.gettext(self.user.locale, message)

    def by_register(self, student: str, staff: str) -> str:
        """The message written for staff ("thầy/cô") or the one written for a student ("em"), translated."""
        return self.i18n.gettext(self.user.locale, staff if self.is_staff else student)

    def stale(self) -> UserFacingError:
        """The refusal for a choice that no longer applies (an old button, a forged payload)."""
        return UserFacingError(self._(STALE))

    def back_to_menu(self) -> tuple[str, str]:
        """The "⬅️ Về menu" option that ends most screens."""
        return (self._(BACK_TO_MENU), "menu")

    def deep_link(self, payload: str) -> str:
        """`https://t.me/<bot>?start=<payload>` when the bot's username is known, else ""."""
        return f"https://t.me/{self.settings.bot_username}?start={payload}" if self.settings.bot_username else ""

    async def goto(self, action: str) -> None:
        """Carry on with another feature's action ("name" or "name:argument"), as a tap on it would; features
        hand over by these public names instead of importing each other."""
        await self.router.run_action(self, action)

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
