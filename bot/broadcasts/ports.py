"""What broadcasts need: class rosters, broadcast jobs and their deliveries (the sender's queue included)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.core.context import Context
from bot.learning.ports import LearningEnv, LearningUnitOfWork


@dataclass(slots=True)
class RosterRec:
    id: int
    class_id: int
    full_name: str
    name_key: str
    student_code: str | None
    user_id: int | None


@dataclass(slots=True)
class MemberRec:
    user_id: int
    display_name: str | None


@dataclass(slots=True)
class BroadcastRec:
    id: int
    school_id: int | None
    created_by: int | None
    kind: str  # lesson|practice
    ref: str  # lesson id, or the topic of a practice quiz
    class_ids: list[int]
    send_at: dt.datetime
    due_on: dt.date | None
    parent_id: int | None
    reminder_on: dt.date | None
    created_at: dt.datetime


@dataclass(slots=True)
class RecipientRec:
    """Where a delivery goes: a student's channel account, or (user_id None, is_group) a class group chat."""

    user_id: int | None
    class_id: int | None
    channel: str
    external_id: str | None
    chat_id: str
    unreachable: bool = False
    is_group: bool = False

    @property
    def target(self) -> str:
        return f"group:{self.channel}:{self.chat_id}" if self.is_group else f"{self.channel}:{self.chat_id}"


@dataclass(slots=True)
class DeliveryRec:
    id: int
    broadcast_id: int
    target: str
    channel: str
    chat_id: str
    external_id: str | None
    is_group: bool
    user_id: int | None
    class_id: int | None
    status: str
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None


@dataclass(slots=True)
class LearningRec:
    """How far one student got with what a broadcast assigned."""

    opened: bool
    completed: bool


class RosterRepository(Protocol):
    """Class rosters, members, and the teacher's changes to a class."""

    async def add_entries(self, class_id: int, rows: list[tuple[str, str, str | None]], now: dt.datetime) -> int: ...
    async def entries(self, class_id: int) -> list[RosterRec]: ...
    async def link(self, entry_id: int, user_id: int) -> bool: ...
    async def members(self, class_id: int) -> list[MemberRec]: ...
    # Students the teacher said are on none of the sheet's rows (until the next sheet is imported).
    async def unlisted(self, class_id: int) -> set[int]: ...
    async def mark_unlisted(self, class_id: int, user_id: int, decided_by: int | None, now: dt.datetime) -> bool: ...
    async def clear_unlisted(self, class_id: int) -> None: ...
    async def rename_class(self, class_id: int, name: str) -> None: ...
    async def archive_class(self, class_id: int) -> None: ...
    async def set_join_code(self, class_id: int, code: str) -> None: ...


class BroadcastRepository(Protocol):
    async def create(
        self,
        school_id: int | None,
        created_by: int | None,
        kind: str,
        ref: str,
        class_ids: list[int],
        send_at: dt.datetime,
        due_on: dt.date | None,
        now: dt.datetime,
        parent_id: int | None = None,
        reminder_on: dt.date | None = None,
    ) -> BroadcastRec: ...
    async def get(self, broadcast_id: int) -> BroadcastRec | None: ...
    async def recipients(self, class_ids: list[int]) -> list[RecipientRec]: ...
    async def add_deliveries(self, broadcast_id: int, recipients: list[RecipientRec], now: dt.datetime) -> int: ...
    async def deliveries(self, broadcast_id: int) -> list[DeliveryRec]: ...
    async def delivery(self, delivery_id: int) -> DeliveryRec | None: ...
    async def for_classes(self, class_ids: list[int], limit: int = 20) -> list[BroadcastRec]: ...
    async def for_student(self, user_id: int) -> list[BroadcastRec]: ...
    async def reminder_on(self, parent_id: int, day: dt.date) -> BroadcastRec | None: ...
    async def learning(self, broadcast: BroadcastRec, user_ids: list[int]) -> dict[int, LearningRec]: ...
    async def names(self, user_ids: list[int]) -> dict[int, str]: ...
    async def lock_conversation(self, user_id: int, now: dt.datetime) -> None: ...

    async def list_recent(self, limit: int = 50) -> list[BroadcastRec]: ...
    async def status_counts(self, broadcast_id: int) -> dict[str, int]: ...

    # The sender's queue (bot.broadcasts.sender): claim a due delivery, settle it, keep to the platform limits.
    async def recover_stale(self, claimed_before: dt.datetime) -> int: ...
    async def candidates(self, channel: str, now: dt.datetime, limit: int = 100) -> list[tuple[int, str, bool]]: ...
    async def next_due_at(self, channel: str, scheduled_before: dt.datetime | None = None) -> dt.datetime | None: ...
    async def claim(self, delivery_id: int, now: dt.datetime) -> DeliveryRec | None: ...
    async def defer(
        self, delivery_id: int, now: dt.datetime, until: dt.datetime, error: str, give_up: bool
    ) -> None: ...
    async def sent_to_user(self, broadcast_id: int, user_id: int) -> int: ...
    async def skip_target(self, channel: str, chat_id: str) -> int: ...
    async def finish(
        self,
        delivery_id: int,
        status: str,
        now: dt.datetime,
        error: str | None = None,
        next_attempt_at: dt.datetime | None = None,
    ) -> None: ...
    async def recent_attempts(self, channel: str, since: dt.datetime) -> list[tuple[str, bool, dt.datetime]]: ...
    async def paused_until(self, channel: str, now: dt.datetime) -> dt.datetime | None: ...


class BroadcastsUnitOfWork(LearningUnitOfWork, Protocol):
    rosters: RosterRepository
    broadcasts: BroadcastRepository


Ctx = Context[BroadcastsUnitOfWork, LearningEnv]
