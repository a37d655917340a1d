"""The live round on the contest page: a student of a chosen class joins, then answers each question while it is
open, everyone on the same question; the page follows the schedule by Server-Sent Events that cost no database
read (the schedule and the questions are in every process's memory), and a reload reads the student's answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.contests import service as contests
from bot.contests.service import Outcome
from bot.core.clock import vn_date, vn_time
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.live import service as live_svc
from bot.live.ports import LiveRec
from bot.web import live_round
from bot.web.render import WebDeps

JOIN_AT = N_("Vòng trực tiếp: cả lớp cùng trả lời từng câu, mỗi câu {q} giây. Câu 1 bắt đầu lúc {at}.")
SAVED = N_("✔️ Đã lưu câu trả lời của em.")
TOO_LATE = N_("⏰ Câu này đã hết giờ, câu trả lời không được tính.")
NOT_NOW = N_("Câu này chưa mở hoặc đã đóng.")
OVER = N_("Vòng trực tiếp đã kết thúc. Em đã trả lời {k}/{n} câu. Kết quả được công bố sau khi ban tổ chức xác nhận.")
PREDICTED = N_("🔮 Đã lưu dự đoán của em: {p}.")
PREDICTION_KEPT = N_("Em đã gửi dự đoán rồi; dự đoán đầu tiên được giữ.")


class LiveCache:
    """Per process: the live round of each round (None: it has none), read once (a live round never changes once
    made; a round that gets one later is read again after `recheck` seconds), and the schedule's state per second
    for every student's stream (counted again when a phase ends within the second)."""

    recheck = 5.0

    def __init__(self) -> None:
        self.rounds: dict[int, tuple[dt.datetime, LiveRec | None]] = {}
        self.states: dict[tuple[int, str], tuple[int, dt.datetime, dict[str, Any]]] = {}

    async def live(self, deps: WebDeps, uow: Any, round_id: int) -> LiveRec | None:
        now = deps.clock()
        found = self.rounds.get(round_id)
        if found is not None and (found[1] is not None or (now - found[0]).total_seconds() < self.recheck):
            return found[1]
        live = await uow.live.by_round(round_id)
        if len(self.rounds) > 10_000:
            self.rounds.clear()
        self.rounds[round_id] = (now, live)
        return live

    def state(self, deps: WebDeps, live: LiveRec, locale: str) -> dict[str, Any]:
        now = deps.clock()
        second = int(now.timestamp())
        found = self.states.get((live.id, locale))
        if found is not None and found[0] == second and now < found[1]:  # the same second and the same phase
            return found[2]
        state = live_round.schedule_state(deps, live, locale, now)
        if len(self.states) > 1_000:
            self.states.clear()
        self.states[(live.id, locale)] = (second, now + dt.timedelta(milliseconds=state["remaining_ms"]), state)
        return state


async def view(
    deps: WebDeps, cache: LiveCache, uow: Any, user: UserRec, round_id: int, translate: Callable[[str], str]
) -> dict[str, Any] | None:
    """The page for a student in a round played live: None when the round has no live round, when it is not
    for this student's class, or when it is over and the student did not take part (the ordinary page then shows
    what it shows)."""
    live = await cache.live(deps, uow, round_id)
    if live is None:
        return None
    view = await uow.contests.student_round(round_id, user.id)
    if view is None:
        return None
    reg = view.registration
    me = await uow.live.participant(live.id, user.id)
    if me is None and (reg is None or reg.class_id not in live.class_ids):
        return None
    _ = translate
    now = deps.clock()
    if me is None and now >= live_svc.last_answer_at(live):
        return None  # over, and not taken part in: the ordinary official attempt is theirs (`LiveClassTurn`)
    out: dict[str, Any] = {"title": view.contest.title, "round": view.round.name, "live": True}
    if me is None:
        at = vn_time(live.starts_at, "%H:%M")
        return out | {"step": "live_join", "message": _(JOIN_AT).format(q=live.question_seconds, at=at)}
    answers = {a.seq: a.chosen for a in await uow.attempts.answers(me.attempt_id)}
    chosen = {seq: live.questions[seq][1].index(c) for seq, c in answers.items() if c in live.questions[seq][1]}
    state = cache.state(deps, live, user.locale)
    if state["phase"] == live_svc.Phase.ENDED.value:
        done = _(OVER).format(k=len(chosen), n=len(live.questions))
        return out | {"step": "message", "message": done}
    entry = await uow.contests.entry_by_attempt(me.attempt_id)
    return out | {
        "step": "live",
        "state": state,
        "chosen": {str(k): v for k, v in chosen.items()},
        "predicted": entry.prediction if entry is not None else None,
        "prediction": _prediction_text(view.contest, translate),
    }


def _prediction_text(contest: Any, translate: Callable[[str], str]) -> str:
    p = contests.definition(contest).prediction
    if p.question:
        return str(p.question)
    if p.target.value == "participant_count":
        return translate("Theo em, đợt thi này sẽ có bao nhiêu bạn tham gia thi chính thức?")
    return translate("Theo em, đợt thi này sẽ có bao nhiêu bạn trả lời đúng tất cả các câu hỏi?")


async def join(deps: WebDeps, cache: LiveCache, uow: Any, user: UserRec, round_id: int) -> None:
    live = await cache.live(deps, uow, round_id)
    view = await uow.contests.student_round(round_id, user.id)
    if live is None or view is None:
        raise contests.ContestError(live_svc.LIVE_OVER)
    now = deps.clock()
    await live_svc.join(
        uow, deps.content, live, view.contest, view.round, view.registration, user.id, now, vn_date(now)
    )


async def answer(
    deps: WebDeps, cache: LiveCache, uow: Any, user: UserRec, round_id: int, seq: int, pos: int
) -> tuple[int, str, str]:
    """(HTTP status, outcome, message id) of one answer; stored before the reply."""
    live = await cache.live(deps, uow, round_id)
    if live is None:
        return 404, Outcome.FOREIGN.value, NOT_NOW
    result = await live_svc.answer(uow, deps.content, live, user.id, seq, pos, deps.clock())
    if result.outcome in (Outcome.RECORDED, Outcome.DUPLICATE):
        return 200, result.outcome.value, SAVED
    if result.outcome == Outcome.LATE:
        return 409, result.outcome.value, TOO_LATE
    return 409, result.outcome.value, NOT_NOW


async def predict(deps: WebDeps, cache: LiveCache, uow: Any, user: UserRec, round_id: int, value: int) -> str:
    live = await cache.live(deps, uow, round_id)
    if live is not None and await live_svc.predict(uow, live, user.id, value, deps.clock()):
        return PREDICTED
    return PREDICTION_KEPT


async def stream(
    request: web.Request, deps: WebDeps, cache: LiveCache, live: LiveRec, locale: str
) -> web.StreamResponse:
    async def produce() -> dict[str, Any]:
        return cache.state(deps, live, locale)

    return await live_round.stream(request, produce)
