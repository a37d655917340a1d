"""What the standard needs: each school's registration for a school year, its self-assessment and evaluation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.accounts.ports import AccountsEnv, AccountsUnitOfWork
from bot.core.context import Context

MET, NOT_MET = "dat", "chua_dat"  # an evaluation's result, as stored


@dataclass(slots=True)
class Answer:
    """A school's answer to one criterion."""

    met: bool
    note: str = ""
    links: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"met": self.met, "note": self.note, "links": list(self.links)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        return cls(bool(data.get("met")), str(data.get("note") or ""), [str(x) for x in data.get("links") or []])


@dataclass(slots=True)
class StandardRec:
    id: int
    school_id: int
    school_year: str
    registered_at: dt.datetime
    answers: dict[str, Answer]
    self_assessed_at: dt.datetime | None
    result: str | None
    evaluated_on: dt.date | None
    evaluation_note: str | None


class StandardRepository(Protocol):
    async def get(self, school_id: int, school_year: str) -> StandardRec | None: ...
    async def for_year(self, school_year: str) -> list[StandardRec]: ...
    async def register(self, school_id: int, school_year: str, by: int, now: dt.datetime) -> StandardRec: ...
    async def save_answers(self, rec_id: int, answers: dict[str, Answer]) -> None: ...
    async def mark_self_assessed(self, rec_id: int, now: dt.datetime) -> None: ...
    async def record_evaluation(
        self, rec_id: int, result: str, on: dt.date, note: str, by: int, now: dt.datetime
    ) -> None: ...


class StandardUnitOfWork(AccountsUnitOfWork, Protocol):
    standard: StandardRepository


Ctx = Context[StandardUnitOfWork, AccountsEnv]
