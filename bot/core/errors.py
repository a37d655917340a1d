"""Errors a user is shown, and the sentences every feature says the same way.

Two kinds of refusal reach the user as a short sentence (the dispatcher rolls back what the flow wrote and
shows it; a tap gets it as its toast too):
- `UserFacingError`: raised by a flow, with a message already translated for the user;
- `Refusal`: raised by a service, with a message id and its fields; translated by the dispatcher in the user's
  language, so services need no translation function. Feature errors (a contest rule, a report scope) are
  subclasses of `Refusal`: this is the one mapping from a rule to what the user reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.i18n import N_

# The sentences several features say; each is written (and translated) once. Written to a student ("em");
# those that address the reader have a staff form ("thầy/cô") in STAFF_FORMS, which `Context._` picks for staff.
STALE = N_("Lựa chọn này đã cũ rồi. Em dùng tin nhắn mới nhất nhé.")
STALE_SHORT = N_("Lựa chọn này đã cũ rồi.")
# Said before the user is known (an unexpected error), so it addresses no one in particular.
APOLOGY = N_("Xin lỗi, mình đang gặp trục trặc. Hãy thử lại sau ít phút nhé.")
BACK_TO_MENU = N_("⬅️ Về menu")
CANCEL = N_("Hủy")
NO_NAME = N_("(chưa có tên)")
ALREADY_ANSWERED = N_("Em đã trả lời câu này rồi.")

STAFF_FORMS: dict[str, str] = {
    STALE: N_("Lựa chọn này đã cũ rồi. Thầy/cô dùng tin nhắn mới nhất nhé."),
    ALREADY_ANSWERED: N_("Thầy/cô đã trả lời câu này rồi."),
}


class UserFacingError(Exception):
    """A problem the user caused and can fix; its message (already translated) is shown as it is."""


class Refusal(Exception):
    """A rule said no. `message` is a message id (marked with `N_`), `fields` fill its `{placeholders}`."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message.format(**fields) if fields else message)
        self.message = message
        self.fields = fields

    def translated(self, gettext: Callable[[str], str]) -> str:
        text = gettext(self.message)
        return text.format(**self.fields) if self.fields else text
