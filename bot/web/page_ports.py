"""What the contest page stores besides the contests' own rows: one-time entry links, the key its sessions are
signed with, and the idempotency keys of the answers it sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.contests.ports import ContestsUnitOfWork


@dataclass(slots=True)
class PageLinkRec:
    user_id: int
    round_id: int


class PageRepository(Protocol):
    async def add_link(
        self, token_hash: str, user_id: int, round_id: int, expires_at: dt.datetime, now: dt.datetime
    ) -> None: ...
    async def use_link(self, token_hash: str, now: dt.datetime) -> PageLinkRec | None:
        """Spend a link: its student and round if it was unused and not expired (at most once, even under races)."""
        ...

    async def secret(self, candidate: str, now: dt.datetime) -> str:
        """The key page sessions are signed with: `candidate` if none was stored yet, else the stored one."""
        ...

    async def answer_key(self, attempt_id: int, user_id: int, key: str) -> tuple[int, str] | None:
        """(seq, outcome) of the answer sent before with this idempotency key to this user's attempt."""
        ...

    async def add_answer_key(self, attempt_id: int, key: str, seq: int, outcome: str, now: dt.datetime) -> bool:
        """False when the key was stored already (the same answer sent twice at once)."""
        ...

    async def purge(self, now: dt.datetime) -> int: ...


class PageUnitOfWork(ContestsUnitOfWork, Protocol):
    page: PageRepository


class PageEnv(Protocol):
    @property
    def web_base_url(self) -> str: ...
    @property
    def telegram_webapp_name(self) -> str:
        """The Mini App's short name made with BotFather's /newapp (direct links t.me/<bot>/<name>), or ""."""
        ...
