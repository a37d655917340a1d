"""Contest ranking, prizes and the collective prize: pure functions over stored rows, deterministic and total."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.core.i18n import N_

PRIZES = ("nhat", "nhi", "ba", "khuyen_khich")
PRIZE_NAMES = {
    "nhat": N_("Giải Nhất"),
    "nhi": N_("Giải Nhì"),
    "ba": N_("Giải Ba"),
    "khuyen_khich": N_("Giải Khuyến khích"),
}
# The last criterion, always applied: who registered first. It makes the order total.
LAST = "registration"


@dataclass(frozen=True, slots=True)
class Entry:
    """One official, submitted attempt of one student in one round, as stored."""

    registration_id: int
    user_id: int
    name: str
    school_id: int | None
    school_name: str
    class_id: int | None
    class_name: str
    score: int
    total: int
    prediction: int | None
    started_at: dt.datetime
    finished_at: dt.datetime
    attempt_id: int = 0
    erased: bool = False  # read from a published record whose person has since had their data deleted

    @property
    def duration(self) -> dt.timedelta:
        return self.finished_at - self.started_at


@dataclass(frozen=True, slots=True)
class Ranked:
    rank: int
    entry: Entry
    distance: int | None  # |prediction − actual|; None when no prediction was given
    separated_by: str  # the criterion that put this entry below the one above it ("" for the first)
    prize: str = ""  # one of PRIZES, or ""


def actual_value(entries: Iterable[Entry], target: str) -> int:
    """What the prediction question predicts, from the round's official entries."""
    entries = list(entries)
    if target == "participant_count":
        return len({e.user_id for e in entries})
    return sum(1 for e in entries if e.score == e.total)


def best_per_student(entries: Iterable[Entry], actual: int, ranking: Sequence[str]) -> list[Entry]:
    """With several official attempts allowed, a student's best attempt (by the ranking itself) counts."""
    best: dict[int, Entry] = {}
    for e in entries:
        cur = best.get(e.user_id)
        if cur is None or _key(e, actual, ranking) < _key(cur, actual, ranking):
            best[e.user_id] = e
    return list(best.values())


def _distance(e: Entry, actual: int) -> int | None:
    return None if e.prediction is None else abs(e.prediction - actual)


def _criterion(e: Entry, actual: int, name: str) -> tuple[int, float]:
    # Smaller is better for every component; a missing prediction ranks after any given one.
    if name == "score":
        return (0, -e.score)
    if name == "prediction":
        d = _distance(e, actual)
        return (1, 0.0) if d is None else (0, d)
    if name == "duration":
        return (0, e.duration.total_seconds())
    if name == "submitted_at":
        return (0, e.finished_at.timestamp())
    if name == LAST:
        return (0, e.registration_id)
    raise ValueError(f"unknown ranking criterion {name!r}")


def _key(e: Entry, actual: int, ranking: Sequence[str]) -> tuple[tuple[int, float], ...]:
    return tuple(_criterion(e, actual, c) for c in (*ranking, LAST))


def rank(entries: Iterable[Entry], actual: int, ranking: Sequence[str]) -> list[Ranked]:
    """Total order: the ranking criteria, then registration order. Each row says what separated it."""
    keyed = sorted(((_key(e, actual, ranking), e) for e in entries), key=lambda p: p[0])
    criteria = (*ranking, LAST)
    out: list[Ranked] = []
    prev: tuple[tuple[int, float], ...] | None = None
    for i, (key, e) in enumerate(keyed):
        separated = ""
        if prev is not None:
            separated = next(c for c, a, b in zip(criteria, prev, key, strict=True) if a != b)
        out.append(Ranked(i + 1, e, _distance(e, actual), separated))
        prev = key
    return out


def prize_minimum(total: int, min_score: int | None, min_percent: int) -> int:
    """The fewest correct answers that can win a prize: `min_score` when given, else `min_percent` per cent of
    the attempt's questions, rounded up (50 % of 20 questions: 10)."""
    if min_score is not None:
        return min_score
    return -(-total * min_percent // 100)


def award(
    ranked: Sequence[Ranked], counts: dict[str, int], min_score: int | None = None, min_percent: int = 0
) -> list[Ranked]:
    """Prizes in rank order: the first `nhat` entries get Nhất, then Nhì, Ba, Khuyến khích; nobody below the
    minimum (`prize_minimum` of their attempt) wins one."""
    slots = [p for p in PRIZES for _ in range(max(0, counts.get(p, 0)))]
    out = []
    for r in ranked:
        prize = ""
        if slots and r.entry.score >= prize_minimum(r.entry.total, min_score, min_percent):
            prize = slots.pop(0)
        out.append(Ranked(r.rank, r.entry, r.distance, r.separated_by, prize))
    return out


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    name: str
    members: int
    school_name: str = ""


@dataclass(frozen=True, slots=True)
class UnitResult:
    rank: int
    unit: Unit
    participants: int
    rate: float  # participants / members (0 when the unit has no members)
    separated_by: str
    prize: bool = False
    participant_ids: frozenset[int] = field(default_factory=frozenset)


def collective(units: Iterable[Unit], participants: dict[int, set[int]], by: str, top: int) -> list[UnitResult]:
    """Units ranked by participants (then rate) or by rate (then participants), then by id; the top N win.

    `participants` maps a unit id to the ids of its students with at least one official submitted attempt.
    A unit nobody from took part in never wins."""
    rows = []
    for u in units:
        ids = participants.get(u.id, set())
        n = len(ids)
        rate = n / u.members if u.members else 0.0
        rows.append((u, n, rate, frozenset(ids)))
    order = ("participants", "rate") if by == "participants" else ("rate", "participants")

    def key(row: tuple[Unit, int, float, frozenset[int]]) -> tuple[float, float, int]:
        u, n, rate, _ids = row
        values = {"participants": -n, "rate": -rate}
        return (values[order[0]], values[order[1]], u.id)

    rows.sort(key=key)
    out = []
    prev = None
    for i, row in enumerate(rows):
        k = key(row)
        separated = ""
        if prev is not None:
            separated = next(name for name, a, b in zip((*order, "id"), prev, k, strict=True) if a != b)
        unit, count, share, members = row
        out.append(
            UnitResult(i + 1, unit, count, share, separated, prize=i < top and count > 0, participant_ids=members)
        )
        prev = k
    return out
