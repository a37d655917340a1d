"""Per-account flood limit: at most N events in a sliding window; the excess gets one friendly notice and is dropped."""

from __future__ import annotations

import datetime as dt
import enum
from collections import deque
from dataclasses import dataclass

from bot.core.i18n import N_
from bot.core.replies import Reply

# Shown once per burst; later excess events of the same burst get no answer at all (no reply storm).
# Said before the user is loaded (no transaction is opened), so it addresses no one in particular.
SLOW_DOWN = N_("Bấm chậm lại một chút nhé 🙂 Mình đang xử lý tin nhắn trước.")


class Verdict(enum.Enum):
    ALLOW = "allow"
    NOTIFY = "notify"  # first excess event of a burst: answer SLOW_DOWN, do nothing else
    DROP = "drop"  # further excess events: do nothing, answer nothing


@dataclass(frozen=True)
class FloodRule:
    events: int = 5  # 0 turns the limit off
    seconds: float = 2.0


class FloodGuard:
    """State for one Dispatcher (not a module global): accepted event times per account. Only accepted events
    fill the window, so a child who keeps tapping is served again as soon as the window has room."""

    def __init__(self, rule: FloodRule, max_accounts: int = 50_000) -> None:
        self.rule = rule
        self.window = dt.timedelta(seconds=rule.seconds)
        self.max_accounts = max_accounts
        self._accepted: dict[str, deque[dt.datetime]] = {}
        self._notified: set[str] = set()

    def check(self, account: str, now: dt.datetime) -> Verdict:
        if self.rule.events <= 0:
            return Verdict.ALLOW
        seen = self._accepted.setdefault(account, deque())
        while seen and now - seen[0] >= self.window:
            seen.popleft()
        if len(seen) < self.rule.events:
            seen.append(now)
            self._notified.discard(account)
            if len(self._accepted) > self.max_accounts:
                self._forget_idle(now)
            return Verdict.ALLOW
        if account in self._notified:
            return Verdict.DROP
        self._notified.add(account)
        return Verdict.NOTIFY

    def _forget_idle(self, now: dt.datetime) -> None:
        """Bounded memory: accounts with nothing inside the window need no state."""
        for account in [a for a, seen in self._accepted.items() if not seen or now - seen[-1] >= self.window]:
            del self._accepted[account]
            self._notified.discard(account)


def replies_for(verdict: Verdict, tap: bool, notice: str) -> list[Reply]:
    """What a refused event gets: the notice once (on a tap only as the button's toast, so the keyboard the
    child is using stays in place), then nothing."""
    if verdict is not Verdict.NOTIFY:
        return []
    return [Reply(text="" if tap else notice, toast=notice)]
