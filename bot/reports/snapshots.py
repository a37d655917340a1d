"""The overview's figures for a school or the district, kept between visits.

Counting a district's year (two million participation records) takes the database seconds, far too long for a
page. So the web console shows the figures as last computed, at once, with the time they were computed, and
computes newer ones in the background when records have been added since (stale while revalidating). A
snapshot knows the newest record it includes (`upto_id`): when nothing was added, it is exact. Snapshots live in
the database, so every process of a district serves and refreshes the same ones, and one process at a time
computes a given snapshot (a claim, taken by a conditional UPDATE). A teacher's classes are few: their figures
are always computed on the spot. Snapshots hold counts only, never a person."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from bot.accounts.ports import ClassRec
from bot.reports.ports import ContestRow, CountRow, ReportFigures, ReportScope, ReportsUnitOfWork, SnapshotRec
from bot.reports.service import Period, figures_for

log = logging.getLogger(__name__)

# Records added since a snapshot: it is still shown while a newer one is computed, if it is younger than this;
# an older one is computed again before the page is shown.
SERVE_STALE_FOR = dt.timedelta(hours=24)
# A scope counted for the first time: the page waits this long for it, then says it is being counted.
FIRST_WAIT = 3.0
# A refresh claimed longer ago than this is taken to have died with its process.
CLAIM_LASTS = dt.timedelta(minutes=5)
# Snapshots nobody looked at for this long are no longer kept fresh, then forgotten.
KEEP_FRESH_FOR = dt.timedelta(days=1)
FORGET_AFTER = dt.timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Overview:
    figures: ReportFigures
    computed_at: dt.datetime
    current: bool  # no participation record was added since these figures were computed


def uses_snapshots(scope: ReportScope) -> bool:
    """A school's and the district's figures are kept; a teacher's few classes are counted on the spot."""
    return scope.class_ids is None


def key_of(scope: ReportScope, period: Period) -> str:
    return f"{period_text(period)}|{scope_text(scope)}"


def period_text(period: Period) -> str:
    return f"{period.kind} {period.first.isoformat()} {period.last.isoformat()}"


def period_of(text: str) -> Period:
    kind, first, last = text.split()
    return Period(kind, dt.date.fromisoformat(first), dt.date.fromisoformat(last))


def scope_text(scope: ReportScope) -> str:
    return json.dumps({"school_id": scope.school_id}, sort_keys=True)


def scope_of(text: str) -> ReportScope:
    return ReportScope(school_id=json.loads(text)["school_id"])


def _row(row: CountRow) -> list[Any]:
    return [row.key, row.counts, row.students]


def _count_row(raw: list[Any]) -> CountRow:
    return CountRow(raw[0], {k: int(v) for k, v in raw[1].items()}, int(raw[2]))


def dumps(f: ReportFigures) -> str:
    return json.dumps(
        {
            "totals": _row(f.totals),
            "by_school": [_row(r) for r in f.by_school],
            "by_class": [_row(r) for r in f.by_class],
            "by_topic": [_row(r) for r in f.by_topic],
            "by_month": [_row(r) for r in f.by_month],
            "contests": [
                [c.ref, c.entered, c.submitted, c.avg_score, c.max_score, list(c.prizes.items()), c.title]
                for c in f.contests
            ],
            "schools": list(f.schools.items()),
            "classes": [
                [c.id, c.school_id, c.teacher_id, c.name, c.grade, c.school_year, c.join_code, c.archived]
                for c in f.classes.values()
            ],
            "enrolled": list(f.enrolled_by_class.items()),
            "mailbox": f.mailbox,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def loads(text: str) -> ReportFigures:
    d = json.loads(text)
    return ReportFigures(
        totals=_count_row(d["totals"]),
        by_school=[_count_row(r) for r in d["by_school"]],
        by_class=[_count_row(r) for r in d["by_class"]],
        by_topic=[_count_row(r) for r in d["by_topic"]],
        by_month=[_count_row(r) for r in d["by_month"]],
        contests=[
            ContestRow(ref, e, s, avg, mx, {int(k): int(v) for k, v in prizes}, title)
            for ref, e, s, avg, mx, prizes, title in d["contests"]
        ],
        schools={int(k): v for k, v in d["schools"]},
        classes={int(c[0]): ClassRec(*c) for c in d["classes"]},
        enrolled_by_class={int(k): int(v) for k, v in d["enrolled"]},
        mailbox={str(k): int(v) for k, v in d.get("mailbox", {}).items()},
    )


Units = Callable[[], Any]


async def compute(reader: Units, writer: Units, scope: ReportScope, period: Period, now: dt.datetime) -> Overview:
    """Count now (through `reader`, the units of work for long reads) and keep the result (through `writer`).
    The newest record id is read in the same snapshot as the figures, so they include every record up to it."""
    async with reader() as uow:
        latest = await uow.snapshots.latest_activity_id()
        figures = await figures_for(uow, scope, period)
    async with writer() as uow:
        key = key_of(scope, period)
        await uow.snapshots.save(
            SnapshotRec(key, period_text(period), scope_text(scope), latest, now, dumps(figures), now)
        )
        await uow.commit()
    return Overview(figures, now, True)


class Tasks(Protocol):
    """Work started and not waited for (the web console's background tasks)."""

    def spawn(self, work: Awaitable[Any]) -> asyncio.Future[Any]: ...
    def once(self, key: str, make: Callable[[], Awaitable[Any]]) -> asyncio.Future[Any]:
        """The task running for `key` in this process, or a new one made by `make`."""
        ...


async def overview_figures(
    reader: Units,
    writer: Units,
    scope: ReportScope,
    period: Period,
    now: dt.datetime,
    tasks: Tasks,
) -> Overview | None:
    """The figures of `scope` in `period` for the overview: exact when nothing was added since they were
    computed; otherwise the last ones while a background task computes newer ones (one process at a time).
    None when none were ever computed and counting takes longer than `FIRST_WAIT`: they are being counted (once
    in this process however often the page is asked for) and the next visit shows them."""
    if not uses_snapshots(scope):
        async with reader() as uow:
            return Overview(await figures_for(uow, scope, period), now, True)
    key = key_of(scope, period)
    async with writer() as uow:
        snap = await uow.snapshots.get(key)
        latest = await uow.snapshots.latest_activity_id()
        if snap is not None:
            await uow.snapshots.viewed(key, now)
            current = snap.upto_id >= latest
            claimed = not current and now - snap.computed_at < SERVE_STALE_FOR
            claimed = claimed and await uow.snapshots.claim(key, now, now - CLAIM_LASTS)
            await uow.commit()
            if current or now - snap.computed_at < SERVE_STALE_FOR:
                if claimed:
                    tasks.spawn(refresh(reader, writer, snap, now))
                return Overview(loads(snap.payload), snap.computed_at, current)
    counting = tasks.once(key, lambda: compute(reader, writer, scope, period, now))
    try:
        return cast(Overview, await asyncio.wait_for(asyncio.shield(counting), FIRST_WAIT))
    except TimeoutError:
        return None


async def refresh(reader: Units, writer: Units, snap: SnapshotRec, now: dt.datetime) -> None:
    try:
        await compute(reader, writer, scope_of(snap.scope), period_of(snap.period), now)
    except Exception:
        # The claim lapses by itself (CLAIM_LASTS): the next visit tries again.
        log.exception("figures snapshot refresh failed")


async def keep_fresh(reader: Units, writer: Units, now: dt.datetime) -> int:
    """Compute again every snapshot someone looked at today that misses newer records (a job, so that the
    organizer's next visit is already current), and forget those nobody looks at. Returns how many it computed."""
    async with writer() as uow:
        uow_typed: ReportsUnitOfWork = uow
        latest = await uow_typed.snapshots.latest_activity_id()
        stale = await uow_typed.snapshots.stale(now - KEEP_FRESH_FOR, latest)
        await uow_typed.snapshots.forget_unviewed(now - FORGET_AFTER)
        claimed = [s for s in stale if await uow_typed.snapshots.claim(s.key, now, now - CLAIM_LASTS)]
        await uow.commit()
    for snap in claimed:
        await refresh(reader, writer, snap, now)
    return len(claimed)
