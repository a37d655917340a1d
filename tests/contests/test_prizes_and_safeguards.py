"""Prize defaults that make sense and are stated when a contest is made; closing a round asks first; the
organizer's results in chat show the attempts flagged for review."""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.contests import cli
from bot.contests import service as svc
from bot.contests.models import ContestDef
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import Chat, contest_def, make_contest, make_roster

EXAMPLE = Path(__file__).resolve().parents[2] / "content" / "quizzes" / "contests" / "ngay-hoi-2027.yaml"


async def _cli(app: App, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="cmd"), open_deps=lambda _args: app.contest_cli())
    args = parser.parse_args(["contest", *argv])
    async with app.contest_cli() as deps:
        return await cli.dispatch(deps, args)


def defaults(now: dt.datetime, **overrides: Any) -> ContestDef:
    """A contest that states nothing about prizes: the defaults apply."""
    data: dict[str, Any] = {
        "id": "mac-dinh",
        "title": "Hội thi dùng mặc định",
        "rounds": [{"name": "Đợt 1", "opens_at": now - dt.timedelta(hours=1), "closes_at": now + dt.timedelta(days=2)}],
        "questions": 5,
    }
    data.update(overrides)
    return ContestDef.model_validate(data)


def test_the_default_prizes_are_by_rank_with_a_minimum_of_half_the_questions() -> None:
    d = defaults(dt.datetime(2026, 11, 28, tzinfo=dt.UTC), questions=20)
    assert d.prizes.counts() == {"nhat": 1, "nhi": 2, "ba": 3, "khuyen_khich": 4}
    assert d.prizes.minimum(20) == 10 and d.prizes.minimum(5) == 3 and d.prizes.minimum(7) == 4
    # An absolute minimum replaces the share; a share of 0 % lets any score win.
    assert defaults(dt.datetime(2026, 11, 28, tzinfo=dt.UTC), prizes={"min_score": 12}).prizes.minimum(20) == 12
    assert defaults(dt.datetime(2026, 11, 28, tzinfo=dt.UTC), prizes={"min_percent": 0}).prizes.minimum(20) == 0


async def test_nobody_below_the_default_minimum_wins_a_prize(app: App, clock: FakeClock) -> None:
    """Today's complaint: 9/20 won a Giải Nhì. With 5 questions the default minimum is 3 correct answers."""
    roster = await make_roster(app, 1, 1, 3, random.Random(11))
    contest_id = await make_contest(app, defaults(clock()))
    for (ch, ext, _uid, _name), right in zip(roster.students, (5, 3, 2), strict=True):
        chat = Chat(app, ch, ext)
        await chat.start_official()
        for q in range(5):
            clock.advance(seconds=5)
            await chat.tap("Đáp án đúng" if q < right else "sai")
        await chat.say("1")
    async with app.uow_factory() as uow:
        contest = await uow.contests.get(contest_id)
        assert contest is not None
        (rnd,) = await uow.contests.rounds(contest_id)
        res = await svc.results(uow, contest, rnd)
    assert [(r.entry.score, r.prize) for r in res.ranked] == [(5, "nhat"), (3, "nhi"), (2, "")]


async def test_the_organizer_is_told_the_prize_rules_when_making_a_contest_in_chat(app: App) -> None:
    await make_roster(app, 1, 1, 0, random.Random(6))
    org = Chat(app, "console", "btc")
    await org.say("/thi")
    await org.tap("Tạo hội thi mới")
    rules = "1 Giải Nhất, 2 Giải Nhì, 3 Giải Ba, 4 Giải Khuyến khích"
    assert rules in org.text and "từ 10/20 câu đúng" in org.text and "50% tổng số câu" in org.text
    await org.say("Hội thi an toàn giao thông tháng 12")
    await org.tap("3 ngày")
    assert "Đã tạo hội thi" in org.text
    assert rules in org.text and "từ 10/20 câu đúng trở lên" in org.text
    assert "mục prizes của tệp YAML hội thi" in org.text and "min_percent" in org.text


async def test_the_command_line_states_the_prize_rules_of_the_file(app: App, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "hoi-thi.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert await _cli(app, "create", str(path)) == 0
    printed = capsys.readouterr().out
    assert "1 Giải Nhất, 2 Giải Nhì, 3 Giải Ba, 5 Giải Khuyến khích" in printed
    assert "từ 10/20 câu đúng trở lên" in printed and "mức tối thiểu đặt trong tệp hội thi" in printed
    assert "min_score" in printed


async def test_closing_a_round_asks_first_and_a_stale_or_repeated_tap_changes_nothing(
    app: App, clock: FakeClock
) -> None:
    await make_roster(app, 1, 1, 1, random.Random(12))
    contest_id = await make_contest(app, contest_def(clock()))
    org = Chat(app, "console", "btc")
    await org.say("/thi")
    await org.tap("Hội thi thử nghiệm")
    await org.tap("Đợt 1")

    async def state() -> tuple[str, int]:
        async with app.sessions() as s:
            rnd = (await s.execute(select(m.ContestRound).where(m.ContestRound.contest_id == contest_id))).scalar_one()
            closes = (await s.execute(select(m.AuditLog).where(m.AuditLog.action == "contest.close"))).all()
        return rnd.status, len(closes)

    await org.tap("Đóng đợt thi")
    assert "Thầy/cô muốn đóng Đợt 1" in org.text and "không mở lại được" in org.text
    assert [label for _t, label in org.options] == ["✅ Đóng đợt thi", "Hủy"]
    assert await state() == ("scheduled", 0)  # asking changed nothing
    await org.tap("Hủy")
    assert "đang mở" in org.text and await state() == ("scheduled", 0)

    await org.tap("Đóng đợt thi")
    confirm = org.token("Đóng đợt thi")
    await org.tap_token(confirm)
    assert "Đã đóng đợt thi" in org.text and await state() == ("closed", 1)
    await org.tap_token(confirm)  # the same tap again: an old button now
    assert "Lựa chọn này đã cũ rồi" in org.text and await state() == ("closed", 1)

    # A confirmation left open while the round was closed elsewhere (the terminal) changes nothing either.
    async with app.uow_factory() as uow:
        rnd = (await uow.contests.rounds(contest_id))[0]
        await uow.contests.update_round(rnd.id, status="open", closed_at=None)
        await uow.commit()
    await org.say("/thi")
    await org.tap("Hội thi thử nghiệm")
    await org.tap("Đợt 1")
    await org.tap("Đóng đợt thi")
    assert await _cli(app, "close", "thu-nghiem") == 0
    assert await state() == ("closed", 2)
    await org.tap("✅ Đóng đợt thi")
    assert "Đợt này đã đóng rồi" in org.text and await state() == ("closed", 2)


async def test_the_organizers_results_in_chat_show_the_flagged_attempts(app: App, clock: FakeClock) -> None:
    roster = await make_roster(app, 1, 1, 2, random.Random(8))
    await make_contest(app, contest_def(clock()))
    (_c, _e, _u, fast_name), (_c2, _e2, _u2, human_name) = roster.students
    for (ch, ext, _uid, _name), pause in zip(roster.students, (0.2, 9.0), strict=True):
        chat = Chat(app, ch, ext)
        await chat.start_official()
        for _ in range(5):
            clock.advance(seconds=pause)
            await chat.tap("Đáp án đúng")
        await chat.say("2")
    org = Chat(app, "console", "btc")
    await org.say("/thi")
    await org.tap("Hội thi thử nghiệm")
    await org.tap("Đợt 1")
    await org.tap("Đóng đợt thi")
    await org.tap("✅ Đóng đợt thi")
    await org.tap("Xem kết quả")
    # The same marks before publishing (counted from the attempts) and after (read from the published record).
    for published in (False, True):
        lines = org.text.splitlines()
        fast = next(line for line in lines if fast_name in line)
        human = next(line for line in lines if human_name in line)
        assert "⚠️ trả lời quá nhanh, cần xem lại" in fast and "quá nhanh" not in human, published
        assert "1 bài trả lời quá nhanh (thời gian trung vị mỗi câu dưới 2 giây), cần xem lại" in org.text
        if not published:
            await org.tap("Công bố kết quả")
            await org.tap("Xác nhận công bố")
            await org.tap("Xem kết quả")
    async with app.sessions() as s:
        flags = (await s.execute(select(m.PublishedResult.flags).order_by(m.PublishedResult.rank))).scalars().all()
    assert flags == [["too_fast"], []]
